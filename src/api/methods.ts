/**
 * The method lists and lookups that api users outside the engine need (the CLI validates its flags
 * with them): criteria, allocations, compensations, recoveries, SlimGPT allocations and export
 * formats. Re-exported here so that src/cli imports only src/api; the registries stay in
 * saliency/, prune/ and exporters/.
 */
export { criterionInfos, getCriterion } from '../saliency/registry';
export { CRITERION_NAMES } from '../saliency/registry';
export type { CriterionName } from '../saliency/types';
export { ALLOCATIONS, type Allocation } from '../prune/allocate';
export { asCompensation, COMPENSATIONS, getCompensation, type Compensation, type CompensationOptions } from '../prune/compensate';
export { getRecovery, RECOVERIES, type Recovery } from '../prune/recovery/registry';
export { SLIMGPT_ALLOCATIONS, type SlimGptAllocation } from '../prune/slimgpt';
export { EXPORT_FORMATS } from '../exporters/registry';
export { quantMethod, QUANT_VARIANTS } from '../quantize/registry';
export { emptyPlan } from '../core/plan';
export { parseJsonText } from '../io/json';
export { firstImages, parseIdx, rawImagesFromIdx, rawImagesFromImageSet } from '../io/image-set';
export { nvitGlobalPlan } from '../prune/nvit-allocate';
