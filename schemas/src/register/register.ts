/**
 * The processing register, built from the data files in schemas/register/ (one file per notice version,
 * plus shared.yaml; the published JSON Schema is register/register.schema.json):
 *
 *  - MitID privacy notice, version 1.6      → register/mitid/1.6.yaml          (text: notices/mitid-1.6.txt)
 *  - NemKonto register privacy notice       → register/nemkonto/unnumbered.yaml (text: notices/nemkonto.txt)
 *
 * Every quote is verbatim (up to whitespace and apostrophe style); a test checks that each one occurs
 * in its notice. Where the notices leave something open, the reading chosen is written down in the
 * notice's `remarks`, in a recipient's `roleNote`, or as `categoriesBasis: 'inferred'` on a flow.
 *
 * `register` is the latest version of every notice; `registerAt(registerFiles, occurredAt)` is the
 * register in force at an instant. Both come from the generated bundle (register/register.bundle.json,
 * `npm run register:bundle -w @sporbar/schemas`; a test keeps it equal to the YAML files), so importing
 * the package parses JSON, not YAML, and compiles no JSON Schema.
 */
import { latestVersions, readRegisterBundle, registerOf, registerSourceFrom, type RegisterFiles } from './load-register.ts';
import type { ProcessingRegister } from './types.ts';

/** The package's register files, from the bundle (layout-checked at load; composed and validated below). */
export const registerFiles: RegisterFiles = readRegisterBundle();

/** The latest version of every notice, composed and validated. */
export const register: ProcessingRegister = registerOf(registerFiles, latestVersions(registerFiles));

export const processingRegister: ProcessingRegister = register;

/**
 * The register files a program runs with (SPORBAR_REGISTER_DIR, `registerDirEnv` of @sporbar/common/config):
 * the packaged ones when `dir` is undefined, else that directory's YAML files; an invalid directory
 * throws SPB_ERR_CONFIG listing every problem.
 */
export const loadRegisterSource = (service: string, dir: string | undefined): Promise<RegisterFiles> => registerSourceFrom(service, dir, () => registerFiles);

/** The latest version of every notice of some register files, composed and validated (what names recipients and notices on a page). */
export const latestRegister = (files: RegisterFiles): ProcessingRegister => (files === registerFiles ? register : registerOf(files, latestVersions(files)));
