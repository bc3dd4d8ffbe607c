package dev.mlserve.http;

import java.util.concurrent.atomic.AtomicInteger;

/** Readiness, draining and the count of requests in flight, shared by the routes and App. */
public final class ServerState {
  private volatile boolean modelsReady;
  private volatile boolean draining;
  private volatile String notReadyReason = "loading models";
  private final AtomicInteger inFlight = new AtomicInteger();

  public boolean ready() {
    return modelsReady && !draining;
  }

  public String notReadyReason() {
    return draining ? "shutting down" : notReadyReason;
  }

  public void modelsReady(boolean ready, String reasonIfNot) {
    this.notReadyReason = reasonIfNot;
    this.modelsReady = ready;
  }

  public boolean draining() {
    return draining;
  }

  public void startDraining() {
    draining = true;
  }

  public int inFlight() {
    return inFlight.get();
  }

  void enter() {
    inFlight.incrementAndGet();
  }

  void leave() {
    inFlight.decrementAndGet();
  }
}
