/** Typed errors of approval decisions; the server maps `httpStatus` to its response. */
export class ApprovalError extends Error {
  constructor(
    message: string,
    readonly httpStatus: 403 | 404 | 409,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The approval does not exist in this workspace (404). */
export class ApprovalNotFoundError extends ApprovalError {
  override name = 'ApprovalNotFoundError';
  constructor(message = 'Approval request not found.') {
    super(message, 404, 'APPROVAL_NOT_FOUND');
  }
}

/** The user may not decide on this approval step (403): not a member, not an approver, or their own request. */
export class ApprovalForbiddenError extends ApprovalError {
  override name = 'ApprovalForbiddenError';
  constructor(message: string) {
    super(message, 403, 'APPROVAL_FORBIDDEN');
  }
}

/** The approval is already final, or the user already voted on this step (409). */
export class ApprovalAlreadyDecidedError extends ApprovalError {
  override name = 'ApprovalAlreadyDecidedError';
  constructor(message: string) {
    super(message, 409, 'APPROVAL_ALREADY_DECIDED');
  }
}
