import { isSporbarError, type SporbarError } from '../../src/errors.ts';

/** The SPB_ERR_CONFIG that `fn` throws (any other outcome fails the test). */
export function configRefusal(fn: () => unknown): SporbarError {
  try {
    fn();
  } catch (err) {
    if (isSporbarError(err, 'SPB_ERR_CONFIG')) return err;
    throw err;
  }
  throw new Error('expected SPB_ERR_CONFIG');
}

/** The variables a configuration refusal names, in its order. */
export const refusedVariables = (err: SporbarError): string[] => (err.details['problems'] as Array<{ variable: string }>).map((p) => p.variable);
