package dev.mlserve.http;

import static dev.mlserve.TestSupport.post;
import static dev.mlserve.TestSupport.quote;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserve.App;
import dev.mlserve.TestSupport;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The home page's Live section in real headless Chromium: before any traffic it shows no numbers;
 * under load its request rate, latency, low-confidence share and score histogram fill in, in place,
 * without a reload. Leaves a screenshot at target/live-page.png.
 */
class LivePageBrowserTest {
  private static final String CARD = "[data-live-model='imdb-sentiment'] ";
  private static App app;
  private static WebDriver browser;

  @BeforeAll
  static void start() throws Exception {
    browser = Chromium.start("LivePageBrowserTest", "--window-size=1100,1400");
    app = TestSupport.startServer(Map.of());
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (app != null) {
      app.close();
    }
  }

  @Test
  void numbersMoveInPlaceWhenLoadIsApplied() throws Exception {
    browser.get(TestSupport.uri(app, "/").toString());
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
    wait.until(d -> !d.findElements(By.cssSelector(CARD + "[data-field='rate']")).isEmpty());
    assertThat(field("versions")).isEqualTo("v1 AVAILABLE");
    assertThat(field("variants")).isEqualTo("none");
    // No prediction yet: no rate (or zero), no latency, an empty histogram.
    assertThat(field("rate")).isIn("–", "0.00 req/s");
    assertThat(field("p50")).isEqualTo("–");
    assertThat(barRows()).allMatch(rows -> rows == 0);
    // Marks the page: a reload would lose it, so the numbers below must come in place.
    ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("window.notReloaded = true");

    // Golden scores: 0.9066 (bin 1.0), 0.4723 (0.5, low confidence), 0.0354 (0.1).
    List<String> texts =
        List.of(
            "This movie was wonderful. The acting was superb and the story moved me to tears. One"
                + " of the best films I have seen in years.",
            "not good",
            "This was a terrible movie. The plot made no sense, the acting was wooden and I wanted"
                + " my two hours back. Avoid it.");
    for (int i = 0; i < 30; i++) {
      for (String text : texts) {
        assertThat(
                post(
                        app,
                        "/v1/models/imdb-sentiment:predict",
                        "{\"instances\":[" + quote(text) + "]}")
                    .status())
            .isEqualTo(200);
      }
    }
    wait.until(
        d ->
            !field("p50").equals("–") && barRows().stream().mapToLong(Long::longValue).sum() == 90);
    assertThat(
            ((org.openqa.selenium.JavascriptExecutor) browser)
                .executeScript("return window.notReloaded"))
        .isEqualTo(true);
    assertThat(Double.parseDouble(field("rate").replace(" req/s", ""))).isGreaterThan(0);
    assertThat(field("p99")).matches("[0-9.]+ ms");
    assertThat(field("low")).isEqualTo("33.3 %");
    List<Long> bins = barRows();
    assertThat(bins).hasSize(10);
    assertThat(bins.get(0)).isEqualTo(30); // ≤ 0.1
    assertThat(bins.get(4)).isEqualTo(30); // (0.4, 0.5]
    assertThat(bins.get(9)).isEqualTo(30); // (0.9, 1.0]

    File shot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.copy(
        shot.toPath(), Path.of("target", "live-page.png"), StandardCopyOption.REPLACE_EXISTING);
  }

  private static String field(String name) {
    return browser.findElement(By.cssSelector(CARD + "[data-field='" + name + "']")).getText();
  }

  private static List<Long> barRows() {
    return browser.findElements(By.cssSelector(CARD + ".bars span")).stream()
        .map((WebElement e) -> Long.parseLong(e.getAttribute("data-rows")))
        .toList();
  }
}
