package dev.mlserve.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserve.App;
import dev.mlserve.TestSupport;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The home page in real headless Chromium: lists the model and predicts through the form. */
class HomePageBrowserTest {
  private static App app;
  private static WebDriver browser;

  @BeforeAll
  static void start() throws Exception {
    browser = Chromium.start("HomePageBrowserTest");
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

  private String predict(String text) {
    WebElement box = browser.findElement(By.id("text"));
    box.clear();
    box.sendKeys(text);
    String before = browser.findElement(By.id("result")).getText();
    browser.findElement(By.id("predict")).click();
    new WebDriverWait(browser, Duration.ofSeconds(10))
        .until(
            d -> {
              String now = d.findElement(By.id("result")).getText();
              return !now.equals(before) && !now.startsWith("Predicting");
            });
    return browser.findElement(By.id("result")).getText();
  }

  @Test
  void listsEndpointsAndPredictsFromTheForm() {
    browser.get(TestSupport.uri(app, "/").toString());
    assertThat(browser.getTitle()).isEqualTo("ml-serve-ecs");
    String page = browser.findElement(By.tagName("body")).getText();
    assertThat(page).contains("/v2/models/{model}[/versions/{v}]/infer").contains("v1 AVAILABLE");
    assertThat(browser.findElement(By.id("model")).getAttribute("value"))
        .isEqualTo("imdb-sentiment");

    String good = predict("A wonderful, moving film with superb acting. I loved every minute.");
    assertThat(good).startsWith("positive").contains("version 1");
    String bad = predict("Awful, boring and badly acted. The worst film I have seen in years.");
    assertThat(bad).startsWith("negative").contains("score 0.");
  }
}
