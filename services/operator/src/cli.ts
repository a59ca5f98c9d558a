#!/usr/bin/env -S npx tsx
// sporbar: the operator's command line (command.ts). `npx sporbar …` from the repository root.
import { main } from './command.ts';

process.exitCode = await main(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env });
