export * from './merkle/rfc9162.ts';
export * from './merkle/compact-range.ts';
export * from './merkle/merkle-tree.ts';
export * from './checkpoint/signed-tree-head.ts';
