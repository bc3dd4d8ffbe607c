package dev.mlserve.model;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mlserve.TestSupport;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The load-time warm-up runs each signature at the row counts the batcher sends. */
class ModelLoaderWarmUpTest {
  @Test
  void warmsUpEveryBatchableSignatureTwiceAtOneToTwoHundredFiftySixRows() {
    Logger logger = (Logger) LoggerFactory.getLogger(ModelLoader.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try (ModelVersion mv = ModelLoader.load(TestSupport.MODEL, 1, TestSupport.demoVersion())) {
      List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
      // 1, 2, 4, ..., 256 rows = 9 row counts, twice; the demo model has two signatures
      for (String signature : mv.signatures().keySet()) {
        assertThat(lines)
            .anyMatch(
                l ->
                    l.startsWith(
                        "model imdb-sentiment v1: warmed up signature '"
                            + signature
                            + "' with 18 calls of up to 256 rows in "));
      }
      assertThat(mv.signatures()).containsKeys("serving_default", "serve");
    } finally {
      logger.detachAppender(logs);
    }
  }
}
