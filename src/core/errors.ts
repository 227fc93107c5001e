/**
 * The one error vocabulary shared by the UI, the worker, the CLI and the server.
 * Expected failures travel as values (`Result`), never as thrown exceptions, so every
 * caller has to decide what to show; each code has exactly one user-facing message.
 */
export const ERROR_MESSAGES = {
  EMPTY_FILE: 'The file is empty.',
  NOT_AN_IMAGE: 'This file is not an image.',
  UNSUPPORTED_FORMAT: 'This image format cannot be read here.',
  TRUNCATED: 'The image file is incomplete (it was cut off) and cannot be used.',
  DECODE_FAILED: 'The image is damaged and cannot be read.',
  TOO_LARGE: 'The file is too large.',
  TOO_MANY_PIXELS: 'The image has too many pixels to process safely.',
  FETCH_FAILED: 'The image could not be downloaded.',
  FILE_UNREADABLE: 'The file could not be read (is it missing, or not readable?).',
  CORS_BLOCKED:
    'The website hosting this image does not allow other sites to read it. Save the image and choose the file instead.',
  INVALID_URL: 'That is not a valid image address.',
  INSECURE_URL:
    'Only secure (https://) addresses of images on other sites can be fetched. Try the address with https://, or save the image and choose the file instead.',
  HOST_UNREACHABLE:
    'The website of this image could not be reached. Check the address and the network connection.',
  OFFLINE: 'This device is offline, and this needs a network connection.',
  MODEL_LOAD_FAILED: 'The identification model could not be loaded.',
  MODEL_INTEGRITY_FAILED: 'The downloaded model is corrupt.',
  BACKEND_UNAVAILABLE: 'No compute backend is available on this device.',
  INFERENCE_FAILED: 'The identification failed.',
  WORKER_CRASHED: 'The identification engine stopped unexpectedly.',
  CANCELLED: 'Cancelled.',
  CAMERA_UNAVAILABLE: 'No camera is available.',
  CAMERA_DENIED: 'Permission to use the camera was refused.',
  RATE_LIMITED: 'Too many requests; try again later.',
  // The device's own storage (the outbox of corrections).
  STORAGE_FULL: 'There is no room left on this device to keep it.',
  STORAGE_FAILED: 'The storage of this device refused to keep it.',
  PHOTO_NOT_SHARED: 'The photo could not be prepared for sharing, so it is not sent.',
  ALREADY_SENT: 'The earlier verdict on this photo had already been sent when you changed it.',
  OUTBOX_FAILED:
    'The corrections kept on this device could not be sent from its storage; trying again later.',
  // Feedback collection (POST /api/v1/feedback and its export).
  VALIDATION_FAILED: 'The request is not in the expected form.',
  CONFLICT: 'A different record was already sent with this id.',
  UNKNOWN_MODEL: 'The server does not know this model version.',
  UNKNOWN_LABEL: 'The label is not one of this model version.',
  FORMULA_NOT_ALLOWED: 'A name cannot start with =, +, - or @.',
  PHOTO_HAS_METADATA:
    'The photo still carries metadata (such as EXIF or GPS) and was not accepted.',
  PHOTO_TOO_LARGE: 'The photo is too large to share (at most 512 pixels on its long side, 256 KB).',
  PAYLOAD_TOO_LARGE: 'The request is too large.',
  UNSUPPORTED_MEDIA_TYPE: 'The request must be sent as JSON.',
  UNAUTHORIZED: 'Missing or wrong access token.',
  UNSUPPORTED_CONTENT_ENCODING: 'The request body must be sent uncompressed.',
  // The model registry (npm run model, the server's manifest channels).
  MODEL_INVALID: 'The model folder is not a model this project can serve.',
  MODEL_LABELS_MISMATCH: 'The number of labels does not match the model output.',
  MODEL_FILE_CHANGED: 'A stored model file no longer matches the sha256 it was registered with.',
  VERSION_IN_USE: 'This version is in use by a channel and cannot be removed.',
  NOTHING_TO_ROLL_BACK:
    'There is no candidate to withdraw and no earlier stable version to return to.',
  REGISTRY_BUSY: 'The model registry is busy with another change; try again.',
  // Any request to the server, whatever the route.
  BAD_REQUEST: 'The request cannot be processed.',
  NOT_FOUND: 'Not found.',
  REQUEST_TIMEOUT: 'The request took too long to arrive.',
  INTERNAL: 'Something went wrong on the server; try again later.',
} as const;

export type ErrorCode = keyof typeof ERROR_MESSAGES;

export interface AppError {
  code: ErrorCode;
  message: string;
  /** Optional technical detail for logs; never required to understand the message. */
  detail?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError };

export function appError(code: ErrorCode, detail?: string): AppError {
  return detail === undefined
    ? { code, message: ERROR_MESSAGES[code] }
    : { code, message: ERROR_MESSAGES[code], detail };
}

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ErrorCode, detail?: string): Result<T> {
  return { ok: false, error: appError(code, detail) };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_MESSAGES, value);
}

/** Warnings do not stop an identification but are shown beside its result. */
export const WARNING_MESSAGES = {
  TINY_IMAGE: 'The image is very small; the result may be unreliable.',
  PARTIAL_IMAGE: 'The image file is incomplete; only part of it could be read.',
  ANIMATED_FIRST_FRAME: 'Only the first frame of this animation was used.',
  UNUSUAL_ASPECT: 'Only the centre of this very wide or tall image was used.',
  TOO_DARK:
    'The image is almost completely dark (is the lens covered?); the result may be unreliable.',
} as const;

export type WarningCode = keyof typeof WARNING_MESSAGES;
