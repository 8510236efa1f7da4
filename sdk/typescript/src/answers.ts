// The node's answers checked against its OpenAPI document (src/openapi.ts) with Ajv, a JSON
// Schema 2020-12 validator: an answer that does not have the documented shape is an AnswerError
// naming the field (`records[0].publication`), never a crash further on. Fields added later are
// accepted (the document allows additional properties), so an older SDK keeps working.

import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";

import type { components } from "./api.js";
import { OPENAPI } from "./openapi.js";

/** The node's answer types, generated from its OpenAPI document (src/api.ts). */
export type Schemas = components["schemas"];

/** A node's answer did not have the shape this SDK expects: which field. */
export class AnswerError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`the node's answer: ${field}: ${reason}`);
    this.name = "AnswerError";
  }
}

// Formats (`uint64`, `uscc`) are documentation; the patterns and ranges beside them are checked.
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
ajv.addSchema(OPENAPI, "openapi");
const validators = new Map<string, ValidateFunction>();

function validator(name: string): ValidateFunction {
  let validate = validators.get(name);
  if (validate === undefined) {
    if (!(name in OPENAPI.components.schemas)) throw new Error(`no schema ${name} in the OpenAPI document`);
    validate = ajv.compile({ $ref: `openapi#/components/schemas/${name}` });
    validators.set(name, validate);
  }
  return validate;
}

/** `/records/0/publication` as `records[0].publication`, plus the missing property if any. */
function fieldOf(error: ErrorObject): string {
  const parts = error.instancePath.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (error.keyword === "required") parts.push(String(error.params.missingProperty));
  return parts.reduce((path, part) => (/^[0-9]+$/.test(part) ? `${path}[${part}]` : path === "" ? part : `${path}.${part}`), "");
}

const depth = (e: ErrorObject) => e.instancePath.split("/").length + (e.keyword === "required" ? 1 : 0);

/** `answer` as the schema `name`, or an AnswerError naming the field that is not (the deepest one). */
export function checked<N extends keyof Schemas & string>(answer: unknown, name: N): Schemas[N] {
  const validate = validator(name);
  if (!validate(answer)) {
    // The deepest error is the most specific: in a union, the alternative that came closest.
    const error = (validate.errors ?? []).reduce<ErrorObject | undefined>(
      (best, e) => (best === undefined || depth(e) > depth(best) ? e : best),
      undefined,
    );
    throw new AnswerError(error === undefined ? name : fieldOf(error) || name, `${error?.message ?? "invalid"} (schema ${name})`);
  }
  return answer as Schemas[N];
}
