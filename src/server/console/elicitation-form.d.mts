// Types of elicitation-form.mjs (the console's browser module): the implementation is checked against them
// (`npx tsc -p src/server/console`), and the unit tests import them. The payload mirrors
// McpElicitationPayload of src/contracts (kept loose: the console takes what the API sends).

/** One field schema of a requested form (MCP's PrimitiveSchemaDefinition; unknown keywords allowed). */
export interface ElicitationFieldSchema {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array';
  title?: string;
  description?: string;
  minLength?: number;
  maxLength?: number;
  format?: string;
  enum?: string[];
  enumNames?: string[];
  oneOf?: { const: string; title?: string }[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: { type?: 'string'; enum?: string[]; anyOf?: { const: string; title?: string }[] };
  default?: string | number | boolean | string[];
  [keyword: string]: unknown;
}

/** The `mcp_elicitation` payload of a pending action (GET /runs/:runId/pending). */
export interface ElicitationPayload {
  type: 'mcp_elicitation';
  tool_call_id: string;
  name: string;
  server: string;
  message: string;
  requestedSchema: { type: 'object'; properties: Record<string, ElicitationFieldSchema>; required?: string[] };
  mode?: 'form' | 'url';
  url?: string;
}

export interface ChoiceModel {
  value: string;
  /** The option's title (`enumNames`, `oneOf[].title`, `anyOf[].title`), else its value. */
  label: string;
}

/** One control of the form. */
export interface FieldModel {
  name: string;
  /** The field's title, else its name. */
  label: string;
  description?: string;
  required: boolean;
  control: 'text' | 'number' | 'checkbox' | 'select' | 'multiselect';
  /** `text`: the input type for the format (email, url, date; text for date-time and plain text). */
  inputType?: 'text' | 'email' | 'url' | 'date';
  /** `text` with a format: what the server expects, in words. */
  hint?: string;
  minLength?: number;
  maxLength?: number;
  /** `number`: whole numbers only. */
  integer?: boolean;
  min?: number;
  max?: number;
  /** `select` and `multiselect`. */
  options?: ChoiceModel[];
  minItems?: number;
  maxItems?: number;
  /** The server's default, pre-filled. */
  default?: string | number | boolean | string[];
}

interface ElicitationAbout {
  server: string;
  tool: string;
  toolCallId: string;
  message: string;
}

export type ElicitationFormModel =
  | (ElicitationAbout & { mode: 'form'; fields: FieldModel[] })
  | (ElicitationAbout & {
      mode: 'url';
      /** The URL as the server sent it (shown as text). */
      url: string;
      /** Where a link may point: only an http(s) URL becomes a link; null otherwise. */
      link: { href: string; host: string } | null;
    });

/** What the controls hold: text and number inputs their text, checkboxes a boolean, multi-selects the chosen values. */
export type FormValues = Record<string, string | boolean | string[]>;

/** The `content` of an accept. */
export type ElicitationContent = Record<string, string | number | boolean | string[]>;

/** What to render for an elicitation: the form's controls, or the link of a URL elicitation. */
export function elicitationFormModel(payload: ElicitationPayload): ElicitationFormModel;

/** The controls' starting values: the server's defaults, else empty (checkboxes unchecked). */
export function initialValues(fields: readonly FieldModel[]): FormValues;

/**
 * The content an accept sends: empty text and number inputs and empty optional multi-selects are left out,
 * numbers are numbers (text that is not one is sent as typed, for the run to refuse), checkboxes are booleans.
 */
export function elicitationContent(fields: readonly FieldModel[], values: FormValues): ElicitationContent;

/** An http(s) URL as a link target (normalized) with its host; null for anything else (javascript:, data:, …). */
export function safeLink(url: unknown): { href: string; host: string } | null;
