package dev.mlserve.errors;

/**
 * A failure the client should hear about, with the HTTP status it maps to. The http package turns
 * every one of these into {@code {"error": message}} in one place.
 */
public class ServingException extends RuntimeException {
  private final int status;

  protected ServingException(int status, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  public int status() {
    return status;
  }

  /** 400: the request cannot be served as sent (bad JSON, wrong type or shape, over a limit). */
  public static ServingException badRequest(String message) {
    return new ServingException(400, message, null);
  }

  /** 404: unknown model, version, label or signature. */
  public static ServingException notFound(String message) {
    return new ServingException(404, message, null);
  }

  /** 413: the body is larger than the configured limit. */
  public static ServingException tooLarge(String message) {
    return new ServingException(413, message, null);
  }

  /** 503: the server cannot take this request now (queue full, model loading, draining). */
  public static ServingException unavailable(String message) {
    return new ServingException(503, message, null);
  }

  /** 500: the model itself failed on input that passed validation. */
  public static ServingException internal(String message, Throwable cause) {
    return new ServingException(500, message, cause);
  }
}
