package dev.mlserve.http;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Real headless Chromium for page tests, driven through Debian's chromedriver (nothing downloaded).
 * Missing binaries: the test fails on CI (which installs them) and is skipped with a printed reason
 * elsewhere. The caller quits the driver.
 */
final class Chromium {
  private static final File CHROMIUM = new File("/usr/bin/chromium");
  private static final File DRIVER = new File("/usr/bin/chromedriver");

  private Chromium() {}

  static ChromeDriver start(String testName, String... extraArguments) throws Exception {
    if (!(CHROMIUM.canExecute() && DRIVER.canExecute())) {
      String reason =
          "SKIPPED "
              + testName
              + ": /usr/bin/chromium and /usr/bin/chromedriver are needed"
              + " (apt-get install chromium chromium-driver; CI installs them)";
      System.out.println(reason);
      if ("true".equals(System.getenv("CI"))) {
        throw new IllegalStateException(reason.replace("SKIPPED", "FAILED on CI"));
      }
      Assumptions.abort(reason);
    }
    Path profile = Files.createTempDirectory(Path.of("target"), "chromium-profile");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-component-update",
        "--disable-background-networking",
        "--disable-sync",
        "--no-first-run",
        "--user-data-dir=" + profile.toAbsolutePath());
    options.addArguments(extraArguments);
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(DRIVER).usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }
}
