package dev.mlserve.model;

import dev.mlserve.errors.ServingException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Keeps TensorFlow off virtual threads. TensorFlow Java registers each native object it allocates
 * under one JavaCPP monitor. The service froze under load when its request threads were virtual and
 * called TensorFlow themselves: the thread dump showed both carriers blocked on that monitor with
 * their virtual threads mounted (docs/BENCHMARKS.md). A virtual thread that blocks on it at tensor
 * allocation unmounts (VirtualThreadProbe shows it), so some other path into it pins; which one is
 * not known. A call made on a virtual thread therefore runs on this pool of platform threads while
 * the virtual thread parks; a call made on a platform thread runs where it is.
 *
 * <p>The pool has one thread per core: the calls that reach it are the ones not batched (batching
 * off, or a signature without a batch dimension), each an intra-op thread's worth of TensorFlow.
 * The service compiles for Java 17, which has no virtual threads; {@code Thread.isVirtual} is
 * looked up once, and where it is missing no thread is virtual.
 */
public final class PlatformCalls {
  private static final MethodHandle IS_VIRTUAL = isVirtualHandle();
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final ExecutorService POOL =
      Executors.newFixedThreadPool(
          Math.max(2, Runtime.getRuntime().availableProcessors()),
          r -> {
            Thread t = new Thread(r, "tf-call-" + THREADS.getAndIncrement());
            t.setDaemon(true);
            return t;
          });

  private PlatformCalls() {}

  /** Whether the calling thread is a virtual thread (never on Java 17-20). */
  public static boolean onVirtualThread() {
    if (IS_VIRTUAL == null) {
      return false;
    }
    try {
      return (boolean) IS_VIRTUAL.invokeExact(Thread.currentThread());
    } catch (Throwable e) {
      throw new IllegalStateException("Thread.isVirtual failed", e);
    }
  }

  private static MethodHandle isVirtualHandle() {
    try {
      return MethodHandles.publicLookup()
          .findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
    } catch (NoSuchMethodException | IllegalAccessException e) {
      return null;
    }
  }

  /** Runs {@code work} here on a platform thread, else on the pool, and returns its result. */
  static <T> T call(Supplier<T> work) {
    if (!onVirtualThread()) {
      return work.get();
    }
    Future<T> f = POOL.submit(work::get);
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new ServingException.Internal("the model failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      // the call itself finishes on the pool; this request no longer waits for it
      Thread.currentThread().interrupt();
      throw new ServingException.Unavailable("interrupted while waiting for the model");
    }
  }

  /** Runs {@code work} here on a platform thread, else later on the pool without waiting. */
  static void run(Runnable work) {
    if (onVirtualThread()) {
      POOL.execute(work);
    } else {
      work.run();
    }
  }
}
