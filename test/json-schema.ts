/**
 * A JSON Schema (draft 2020-12) validator for the subset docs/bench-schema.json uses: type
 * (one or a list; `integer`), const, enum, minimum, properties, required,
 * additionalProperties: false, items, prefixItems, minItems, maxItems, anyOf, and $ref to
 * `#/$defs/…`. Anything else in a schema is an error here, so the schema cannot quietly
 * use a keyword this check ignores. Returns the errors, each with the JSON path it found.
 */

type Schema = Record<string, unknown>;

const KNOWN = new Set([
  ...['$schema', '$id', '$defs', 'title', 'description', 'type', 'const', 'enum', 'minimum'],
  ...['properties', 'required', 'additionalProperties', 'items', 'prefixItems', 'minItems', 'maxItems'],
  ...['anyOf', '$ref'],
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeOf(value) === type;
}

export function validate(schema: Schema, value: unknown, root: Schema = schema, at = '$'): string[] {
  const unknown = Object.keys(schema).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0)
    return [`${at}: schema keyword(s) this validator does not know: ${unknown.join(', ')}`];
  if (typeof schema.$ref === 'string') {
    const name = /^#\/\$defs\/(.+)$/.exec(schema.$ref)?.[1];
    const target = name === undefined ? undefined : (root.$defs as Record<string, Schema>)[name];
    if (target === undefined) return [`${at}: unresolved $ref ${schema.$ref}`];
    const errors = validate(target, value, root, at);
    if (errors.length > 0) return errors;
  }
  if (Array.isArray(schema.anyOf)) {
    const tries = (schema.anyOf as Schema[]).map((option) => validate(option, value, root, at));
    if (!tries.some((errors) => errors.length === 0))
      return [`${at}: matches no anyOf option`, ...tries.flat()];
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((type) => hasType(value, type)))
      return [`${at}: expected ${types.join(' or ')}, got ${typeOf(value)}`];
  }
  const errors: string[] = [];
  if ('const' in schema && value !== schema.const)
    errors.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    errors.push(`${at}: ${JSON.stringify(value)} not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof schema.minimum === 'number' && typeof value === 'number' && value < schema.minimum) {
    errors.push(`${at}: ${value} < ${schema.minimum}`);
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) {
      if (!(key in object)) errors.push(`${at}: missing ${key}`);
    }
    for (const [key, item] of Object.entries(object)) {
      const property = properties[key];
      if (property !== undefined) errors.push(...validate(property, item, root, `${at}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${at}: unexpected property ${key}`);
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      errors.push(`${at}: too few items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      errors.push(`${at}: too many items`);
    const prefix = (schema.prefixItems ?? []) as Schema[];
    value.forEach((item, index) => {
      const itemSchema = prefix[index] ?? (schema.items as Schema | undefined);
      if (itemSchema !== undefined) errors.push(...validate(itemSchema, item, root, `${at}[${index}]`));
    });
  }
  return errors;
}
