/**
 * The api's public entry for code outside the engine (the CLI; the UI reaches the same api through
 * the worker): the in-process StudioApi, its types, and the method lists (methods.ts).
 */
export { createStudioApi, type StudioDeps } from './studio';
export * from './methods';
export type * from './types';
export type { PruningPlan } from '../core/plan';
export type { FileSource } from '../io/source';
export { IMAGE_RECOVERY_DEFAULTS } from './recovery-images';
