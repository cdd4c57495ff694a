import { z } from 'zod';
import { ASK_USER_QUESTION, BatchQuestionSchema, MAX_QUESTIONS_PER_CALL, QuestionSchema } from '../../contracts';
import { defineTool } from './registry';

/**
 * How `ask_user_question` is offered to a model. The workflow handles the call itself (it pauses
 * for the user's answers) and validates the arguments with `AskUserQuestionArgsSchema`; this entry
 * only describes the tool, as one object schema, since providers want an object at the top level.
 */
export const askUserQuestionTool = defineTool({
  name: ASK_USER_QUESTION,
  description:
    'Ask the user and wait for the answer. Give either one question (question, optional header, description, ' +
    `options [{label, value}], multiSelect) or "questions": a batch of 1-${MAX_QUESTIONS_PER_CALL} questions, each with a unique id.`,
  argsSchema: QuestionSchema.omit({ id: true })
    .partial()
    .extend({ questions: z.array(BatchQuestionSchema).min(1).max(MAX_QUESTIONS_PER_CALL).optional() }),
  execute() {
    // Never reached through the workflow: it pauses for the answer instead of running an activity.
    return Promise.reject(new Error('ask_user_question is answered by the user through the run, not executed'));
  },
});
