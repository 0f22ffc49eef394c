/**
 * Business Central's error vocabulary for the sandbox ERP: the codes it answers with and the
 * `{"error":{"code","message"}}` body whose message ends in a CorrelationId.
 */
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';

/** The BC error codes the sandbox uses (devitpro `dynamics-error-codes.md`). */
export type BcErrorCode =
  | 'BadRequest_NotFound'
  | 'BadRequest_InvalidToken'
  | 'BadRequest_NotSupported'
  | 'BadRequest_RequiredParamNotProvided'
  | 'BadRequest_MethodNotAllowed'
  | 'Authentication_InvalidCredentials'
  | 'Internal_CompanyNotFound'
  | 'Internal_TenantUnavailable'
  | 'Application_DialogException'
  | 'Application_FieldValidationException'
  | 'Application_StringExceededLength'
  | 'Request_EntityChanged';

/** A failure the sandbox answers with a BC error body. */
export class ODataError extends Error {
  readonly status: number;
  readonly code: BcErrorCode;

  constructor(status: number, code: BcErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ODataError';
    this.status = status;
    this.code = code;
  }
}

/** The BC error body; BC appends the correlation id to the message with two spaces. */
export function bcErrorBody(
  code: BcErrorCode,
  message: string,
): { error: { code: BcErrorCode; message: string } } {
  return { error: { code, message: `${message}  CorrelationId:  ${randomUUID()}.` } };
}

/** Writes an {@link ODataError} as BC does. */
export function sendODataError(res: Response, error: ODataError): void {
  res.status(error.status).json(bcErrorBody(error.code, error.message));
}
