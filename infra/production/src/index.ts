export { productionBlocks, stepScript, type ScriptBlock } from './readme-blocks.ts';
export { openShellSession, type ShellSession } from './shell-session.ts';
