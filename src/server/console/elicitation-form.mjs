// @ts-check
// The approver console's form for an MCP elicitation, as pure functions (no DOM, no I/O): what to render for
// a requested schema, and the content a filled-in form sends. app.js renders the model; test/unit tests it.
// Every string here comes from an MCP server: the model carries it as data, and app.js puts it in the page as
// text only. Types: elicitation-form.d.mts (the implementation below is checked against it).
/* global URL */

/** @typedef {import('./elicitation-form.mjs').ElicitationPayload} ElicitationPayload */
/** @typedef {import('./elicitation-form.mjs').ElicitationFieldSchema} ElicitationFieldSchema */
/** @typedef {import('./elicitation-form.mjs').FieldModel} FieldModel */
/** @typedef {import('./elicitation-form.mjs').FormValues} FormValues */
/** @typedef {import('./elicitation-form.mjs').ElicitationContent} ElicitationContent */
/** @typedef {import('./elicitation-form.mjs').ChoiceModel} ChoiceModel */

/** @type {Record<string, { inputType: FieldModel['inputType'], hint: string }>} */
const FORMATS = {
  email: { inputType: 'email', hint: 'An email address, e.g. name@example.com' },
  uri: { inputType: 'url', hint: 'A URI, e.g. https://example.com/page' },
  date: { inputType: 'date', hint: 'A date: YYYY-MM-DD' },
  'date-time': { inputType: 'text', hint: 'A date and time with its time zone, e.g. 2026-11-26T14:30:00Z' },
};

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * @param {unknown} value
 * @returns {value is string}
 */
function isText(value) {
  return typeof value === 'string';
}

/**
 * A finite number, or undefined.
 * @param {unknown} value
 */
function finite(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * A non-negative integer, or undefined.
 * @param {unknown} value
 */
function count(value) {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Options from `enum` (+ `enumNames`) or from `oneOf` / `anyOf` (`{ const, title }`).
 * @param {unknown} values
 * @param {unknown} names
 * @param {unknown} titled
 * @returns {ChoiceModel[] | undefined}
 */
function choicesOf(values, names, titled) {
  if (Array.isArray(values)) {
    const labels = Array.isArray(names) ? names : [];
    return values.filter(isText).map((value, i) => {
      const label = labels[i];
      return { value, label: isText(label) && label !== '' ? label : value };
    });
  }
  if (Array.isArray(titled)) {
    return titled.filter(isObject).flatMap((option) => {
      if (!isText(option.const)) return [];
      const title = option.title;
      return [{ value: option.const, label: isText(title) && title !== '' ? title : option.const }];
    });
  }
  return undefined;
}

/**
 * One field of the form: which control, its label, bounds, choices and pre-filled value.
 * @param {string} name
 * @param {ElicitationFieldSchema} field
 * @param {boolean} required
 * @returns {FieldModel}
 */
function fieldModel(name, field, required) {
  const base = {
    name,
    label: isText(field.title) && field.title !== '' ? field.title : name,
    required,
    ...(isText(field.description) && field.description !== '' ? { description: field.description } : {}),
  };
  switch (field.type) {
    case 'boolean':
      return { ...base, control: 'checkbox', default: field.default === true };
    case 'number':
    case 'integer': {
      const min = finite(field.minimum);
      const max = finite(field.maximum);
      const fallback = finite(field.default);
      return {
        ...base,
        control: 'number',
        integer: field.type === 'integer',
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        ...(fallback !== undefined ? { default: fallback } : {}),
      };
    }
    case 'array': {
      const items = isObject(field.items) ? field.items : {};
      const options = choicesOf(items.enum, undefined, items.anyOf) ?? [];
      const minItems = count(field.minItems);
      const maxItems = count(field.maxItems);
      const chosen = Array.isArray(field.default) ? field.default.filter(isText) : undefined;
      return {
        ...base,
        control: 'multiselect',
        options,
        ...(minItems !== undefined ? { minItems } : {}),
        ...(maxItems !== undefined ? { maxItems } : {}),
        ...(chosen !== undefined ? { default: chosen } : {}),
      };
    }
    default: {
      const options = choicesOf(field.enum, field.enumNames, field.oneOf);
      const fallback = isText(field.default) ? { default: field.default } : {};
      if (options) return { ...base, control: 'select', options, ...fallback };
      const format = isText(field.format) ? FORMATS[field.format] : undefined;
      const minLength = count(field.minLength);
      const maxLength = count(field.maxLength);
      return {
        ...base,
        control: 'text',
        inputType: format?.inputType ?? 'text',
        ...(format ? { hint: format.hint } : {}),
        ...(minLength !== undefined ? { minLength } : {}),
        ...(maxLength !== undefined ? { maxLength } : {}),
        ...fallback,
      };
    }
  }
}

/**
 * The fields of a form-mode elicitation, in the server's order.
 * @param {ElicitationPayload['requestedSchema']} schema
 * @returns {FieldModel[]}
 */
function fieldsOf(schema) {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(properties).map(([name, field]) => fieldModel(name, field, required.has(name)));
}

/** @type {typeof import('./elicitation-form.mjs').safeLink} */
export function safeLink(url) {
  if (typeof url !== 'string') return null;
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  return { href: parsed.href, host: parsed.host };
}

/** @type {typeof import('./elicitation-form.mjs').elicitationFormModel} */
export function elicitationFormModel(payload) {
  const about = {
    server: payload.server,
    tool: payload.name,
    toolCallId: payload.tool_call_id,
    message: payload.message,
  };
  if (payload.mode === 'url') {
    const url = typeof payload.url === 'string' ? payload.url : '';
    return { ...about, mode: 'url', url, link: safeLink(url) };
  }
  return { ...about, mode: 'form', fields: fieldsOf(payload.requestedSchema) };
}

/** @type {typeof import('./elicitation-form.mjs').initialValues} */
export function initialValues(fields) {
  /** @type {FormValues} */
  const values = {};
  for (const field of fields) {
    switch (field.control) {
      case 'checkbox':
        values[field.name] = field.default === true;
        break;
      case 'multiselect':
        values[field.name] = Array.isArray(field.default) ? [...field.default] : [];
        break;
      case 'number':
        values[field.name] = typeof field.default === 'number' ? String(field.default) : '';
        break;
      default:
        values[field.name] = typeof field.default === 'string' ? field.default : '';
    }
  }
  return values;
}

/** @type {typeof import('./elicitation-form.mjs').elicitationContent} */
export function elicitationContent(fields, values) {
  /** @type {ElicitationContent} */
  const content = {};
  // defineProperty: a field named "__proto__" stays a field of the content.
  /**
   * @param {string} name
   * @param {string | number | boolean | string[]} value
   */
  const put = (name, value) =>
    Object.defineProperty(content, name, { value, enumerable: true, writable: true, configurable: true });
  for (const field of fields) {
    const value = Object.hasOwn(values, field.name) ? values[field.name] : undefined;
    switch (field.control) {
      case 'checkbox':
        put(field.name, value === true);
        break;
      case 'multiselect': {
        const chosen = Array.isArray(value) ? value.filter(isText) : [];
        // An optional list left empty is left out; a required one is sent, for the run to judge.
        if (chosen.length > 0 || field.required) put(field.name, chosen);
        break;
      }
      case 'number': {
        const text = typeof value === 'string' ? value.trim() : '';
        if (text === '') break;
        const number = Number(text);
        // Not a number: sent as typed, and the run says what is wrong with it.
        put(field.name, Number.isFinite(number) ? number : text);
        break;
      }
      default:
        if (typeof value === 'string' && value !== '') put(field.name, value);
    }
  }
  return content;
}
