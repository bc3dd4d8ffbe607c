package dev.mlserve.model;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reproduces, in its own JVM on Java 21+, what froze the service on virtual request threads: while
 * a platform thread holds the JavaCPP monitor that TensorFlow Java takes for every tensor it
 * allocates, many virtual threads make TensorFlow calls. Then it checks whether a virtual thread
 * started afterwards still gets a carrier to run on, lets the monitor go, and waits for the calls.
 *
 * <p>Arguments: the demo model's version folder, the mode ({@code service}: {@link
 * ModelVersion#run}, as requests do; {@code binding}: TensorFlow Java called directly on the
 * virtual threads), a text and its golden score. Prints one line per finding; exits 0 when the
 * carriers stayed free and every call gave the golden score, 2 when no carrier was free, 1 on
 * anything else.
 */
public final class VirtualThreadProbe {
  private VirtualThreadProbe() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    boolean service = args[1].equals("service");
    byte[] text = args[2].getBytes(StandardCharsets.UTF_8);
    double golden = Double.parseDouble(args[3]);
    // the test sources compile for Java 17: the virtual-thread executor is looked up
    ExecutorService virtual =
        (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    int carriers = Integer.getInteger("jdk.virtualThreadScheduler.parallelism", 2);
    Object monitor = Class.forName("org.bytedeco.javacpp.Pointer$DeallocatorThread");
    int code = 0;
    try (ModelVersion mv = ModelLoader.load("imdb-sentiment", 1, dir)) {
      SignatureSpec spec = mv.signature("");
      Map<String, Values> inputs =
          Map.of("text", Values.strings(new long[] {1, 1}, new byte[][] {text}));
      CountDownLatch held = new CountDownLatch(1);
      CountDownLatch letGo = new CountDownLatch(1);
      Thread holder =
          new Thread(
              () -> {
                synchronized (monitor) {
                  held.countDown();
                  awaitQuietly(letGo);
                }
              },
              "monitor-holder");
      holder.start();
      held.await();
      List<Future<Double>> calls = new ArrayList<>();
      List<Thread> callers = new CopyOnWriteArrayList<>();
      for (int i = 0; i < carriers * 4; i++) {
        calls.add(
            virtual.submit(
                () -> {
                  callers.add(Thread.currentThread());
                  if (service) {
                    return mv.run(spec, inputs).get("output_0").number(0);
                  }
                  Tensors.toTensor(inputs.get("text")).close();
                  return golden;
                }));
      }
      Thread.sleep(1_000); // every call reaches the monitor meanwhile
      long inside =
          callers.stream()
              .filter(
                  t ->
                      Arrays.stream(t.getStackTrace())
                          .anyMatch(
                              f ->
                                  f.getClassName().startsWith("org.tensorflow.")
                                      || f.getClassName().startsWith("org.bytedeco.")))
              .count();
      System.out.println(
          "virtual threads inside TensorFlow Java: " + inside + " of " + callers.size());
      if (service && inside > 0) {
        code = 1;
      }
      Future<String> late = virtual.submit(() -> "ran");
      try {
        late.get(5, TimeUnit.SECONDS);
        System.out.println("carriers free: a virtual thread started later ran");
      } catch (TimeoutException e) {
        System.out.println("carriers stuck: a virtual thread started later did not run in 5 s");
        code = 2;
      }
      long done = calls.stream().filter(Future::isDone).count();
      System.out.println("calls done while the monitor was held: " + done + " of " + calls.size());
      letGo.countDown();
      holder.join();
      int good = 0;
      for (Future<Double> f : calls) {
        double score = f.get(60, TimeUnit.SECONDS);
        if (Math.abs(score - golden) <= 1e-5) {
          good++;
        } else {
          System.out.println("wrong score " + score + " (golden " + golden + ")");
        }
      }
      System.out.println("calls with the golden score: " + good + " of " + calls.size());
      if (code == 0 && good != calls.size()) {
        code = 1;
      }
    }
    System.exit(code);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
