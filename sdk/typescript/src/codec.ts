// The canonical encoding (sdk/vectors/ENCODING.md): bincode 2's standard configuration over
// serde. A value is encoded from its JSON form (as the API shows it) by a schema that mirrors
// the Rust declaration: the field order comes from the schema, never from the JSON object.

/** A schema: how one value is laid out. */
export type Schema =
  | "u8"
  | "u16"
  | "u32"
  | "u64"
  | "bool"
  | "string"
  | { bytes: number }
  /** Bytes of one of these lengths (a public key: 32 for ed25519, 33 for SM2), length-prefixed. */
  | { bytesOf: readonly number[] }
  | { option: Schema }
  | { list: Schema }
  | { struct: ReadonlyArray<readonly [string, Schema]> }
  | { enum: ReadonlyArray<readonly [string, Schema | null]> }
  /** A field the JSON may leave out (`#[serde(default)]`): then it is `value`. */
  | { defaulted: Schema; value: unknown }
  | { lazy: () => Schema };

/** Why a value could not be encoded: the path of the field (e.g. `action.issue_guarantee.amount_fen`) and what is wrong. */
export class EncodeError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field || "value"}: ${reason}`);
    this.name = "EncodeError";
  }
}

const UINT_MAX: Record<string, bigint> = { u8: 0xffn, u16: 0xffffn, u32: 0xffff_ffffn, u64: 0xffff_ffff_ffff_ffffn };

class Writer {
  private chunks: number[] = [];

  byte(b: number): void {
    this.chunks.push(b & 0xff);
  }

  bytes(bs: Uint8Array): void {
    for (const b of bs) this.chunks.push(b);
  }

  littleEndian(value: bigint, width: number): void {
    for (let i = 0; i < width; i++) this.byte(Number((value >> BigInt(8 * i)) & 0xffn));
  }

  /** bincode's varint: below 251 one byte; else a marker and the value in 2, 4 or 8 bytes. */
  varint(value: bigint): void {
    if (value < 251n) this.byte(Number(value));
    else if (value <= 0xffffn) (this.byte(251), this.littleEndian(value, 2));
    else if (value <= 0xffff_ffffn) (this.byte(252), this.littleEndian(value, 4));
    else (this.byte(253), this.littleEndian(value, 8));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

function unsigned(value: unknown, kind: string, field: string): bigint {
  let n: bigint;
  if (typeof value === "bigint") n = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
  else if (typeof value === "string" && /^[0-9]+$/.test(value)) n = BigInt(value);
  else throw new EncodeError(field, `expected an unsigned integer, got ${JSON.stringify(value)}`);
  if (n < 0n || n > UINT_MAX[kind]) throw new EncodeError(field, `${n} does not fit in ${kind}`);
  return n;
}

export function hexToBytes(hex: string, field = "hex"): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new EncodeError(field, "expected lowercase hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function write(w: Writer, schema: Schema, value: unknown, field: string): void {
  if (typeof schema === "string") {
    switch (schema) {
      case "bool":
        if (typeof value !== "boolean") throw new EncodeError(field, "expected true or false");
        return w.byte(value ? 1 : 0);
      case "string": {
        if (typeof value !== "string") throw new EncodeError(field, "expected a string");
        const utf8 = new TextEncoder().encode(value);
        w.varint(BigInt(utf8.length));
        return w.bytes(utf8);
      }
      case "u8":
        return w.byte(Number(unsigned(value, "u8", field)));
      default:
        return w.varint(unsigned(value, schema, field));
    }
  }
  if ("lazy" in schema) return write(w, schema.lazy(), value, field);
  if ("defaulted" in schema) return write(w, schema.defaulted, value === undefined ? schema.value : value, field);
  if ("bytes" in schema) {
    if (typeof value !== "string" || value.length !== schema.bytes * 2)
      throw new EncodeError(field, `expected ${schema.bytes} bytes as lowercase hex`);
    w.varint(BigInt(schema.bytes));
    return w.bytes(hexToBytes(value, field));
  }
  if ("bytesOf" in schema) {
    const len = typeof value === "string" && /^[0-9a-f]*$/.test(value) ? value.length / 2 : -1;
    if (!schema.bytesOf.includes(len))
      throw new EncodeError(field, `expected ${schema.bytesOf.join(" or ")} bytes as lowercase hex`);
    w.varint(BigInt(len));
    return w.bytes(hexToBytes(value as string, field));
  }
  if ("option" in schema) {
    if (value === null || value === undefined) return w.byte(0);
    w.byte(1);
    return write(w, schema.option, value, field);
  }
  if ("list" in schema) {
    if (!Array.isArray(value)) throw new EncodeError(field, "expected a list");
    w.varint(BigInt(value.length));
    value.forEach((item, i) => write(w, schema.list, item, `${field}[${i}]`));
    return;
  }
  if ("struct" in schema) {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new EncodeError(field, "expected an object");
    const record = value as Record<string, unknown>;
    const known = new Set(schema.struct.map(([name]) => name));
    const unknown = Object.keys(record).find((k) => !known.has(k));
    if (unknown !== undefined) throw new EncodeError(field, `unknown field ${unknown}`);
    for (const [name, fieldSchema] of schema.struct) {
      const inner = field ? `${field}.${name}` : name;
      const v = record[name];
      const optional = typeof fieldSchema === "object" && ("option" in fieldSchema || "defaulted" in fieldSchema);
      if (v === undefined && !optional) throw new EncodeError(inner, "missing");
      write(w, fieldSchema, v, inner);
    }
    return;
  }
  // An enum: a unit variant is its name; any other is {name: content}.
  const [name, content] =
    typeof value === "string"
      ? [value, undefined]
      : typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1
        ? Object.entries(value)[0]
        : [undefined, undefined];
  const index = schema.enum.findIndex(([n]) => n === name);
  if (name === undefined || index < 0) {
    const names = schema.enum.map(([n]) => n).join(", ");
    throw new EncodeError(field, `expected one of ${names}, got ${JSON.stringify(value)}`);
  }
  w.varint(BigInt(index));
  const variant = schema.enum[index][1];
  if (variant === null) {
    if (content !== undefined) throw new EncodeError(`${field}.${name}`, "a unit variant carries nothing");
    return;
  }
  write(w, variant, content, field ? `${field}.${name}` : name);
}

/** The canonical bytes of `value` (its JSON form) laid out by `schema`. */
export function encode(schema: Schema, value: unknown): Uint8Array {
  const w = new Writer();
  write(w, schema, value, "");
  return w.finish();
}
