package dev.mlserve.errors;

/**
 * A request that cannot be served, as the domain sees it. The set is closed: each type is one
 * outcome a client can act on, and one kind of the {@code mlserve_prediction_errors} metric. The
 * http package alone turns them into statuses and {@code {"error": message}} bodies; nothing here
 * knows about HTTP.
 */
public abstract sealed class ServingException extends RuntimeException
    permits ServingException.BadInput,
        ServingException.NotFound,
        ServingException.ModelRejected,
        ServingException.Overloaded,
        ServingException.Unavailable,
        ServingException.Internal {

  /** Where the request was routed when it failed; empty until the predict layer routed it. */
  public record Routed(String model, long version, String variant) {}

  private volatile Routed routed;

  ServingException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The metric kind: bad_input, not_found, model_rejected, overloaded, unavailable, internal. */
  public abstract String kind();

  /** The route the request had taken when it failed, or null when it failed before routing. */
  public Routed routed() {
    return routed;
  }

  /** Records the route once the predict layer knows it (the first call wins). */
  public ServingException routedTo(String model, long version, String variant) {
    if (routed == null) {
      routed = new Routed(model, version, variant);
    }
    return this;
  }

  /** The request cannot be served as sent: bad JSON, wrong type or shape, over a limit. */
  public static ServingException badRequest(String message) {
    return new BadInput(message);
  }

  /** Unknown model, version or label. */
  public static ServingException notFound(String message) {
    return new NotFound(message);
  }

  /** The request was refused before anything ran: bad JSON, a wrong type, shape or name. */
  public static final class BadInput extends ServingException {
    public BadInput(String message) {
      super(message, null);
    }

    @Override
    public String kind() {
      return "bad_input";
    }
  }

  /** The model, version or label does not exist here. */
  public static final class NotFound extends ServingException {
    public NotFound(String message) {
      super(message, null);
    }

    @Override
    public String kind() {
      return "not_found";
    }
  }

  /** The model itself refused input that passed validation (e.g. a graph assertion). */
  public static final class ModelRejected extends ServingException {
    public ModelRejected(String message, Throwable cause) {
      super(message, cause);
    }

    @Override
    public String kind() {
      return "model_rejected";
    }
  }

  /** Too much queued already: retry later. */
  public static final class Overloaded extends ServingException {
    public Overloaded(String message) {
      super(message, null);
    }

    @Override
    public String kind() {
      return "overloaded";
    }
  }

  /** The model exists but cannot serve now: still loading, or the server is stopping. */
  public static final class Unavailable extends ServingException {
    public Unavailable(String message) {
      super(message, null);
    }

    @Override
    public String kind() {
      return "unavailable";
    }
  }

  /** Something failed that is not the request's fault (TensorFlow, a bug). */
  public static final class Internal extends ServingException {
    public Internal(String message, Throwable cause) {
      super(message, cause);
    }

    @Override
    public String kind() {
      return "internal";
    }
  }
}
