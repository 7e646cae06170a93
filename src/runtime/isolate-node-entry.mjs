// Entry of the isolated runner's Node worker (isolate-node.ts): TypeScript through tsx, then the child.
import { register } from 'tsx/esm/api';

register();
await import('./isolate-node-child.ts');
