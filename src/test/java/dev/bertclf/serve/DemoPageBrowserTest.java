package dev.bertclf.serve;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo page in a real browser: headless Chromium (Debian's chromium + chromium-driver, which .ci/run installs)
 * loads /, a review is typed, the button clicked, and the label with one bar per class appears.
 */
@Tag("browser")
class DemoPageBrowserTest {
    static final File CHROMIUM = new File("/usr/bin/chromium");
    static final File DRIVER = new File("/usr/bin/chromedriver");

    /** Headless Chromium, where installed (always on CI). */
    private static ChromeDriverService browserService() {
        boolean installed = CHROMIUM.canExecute() && DRIVER.canExecute();
        if (System.getenv("CI") == null) {
            Assumptions.assumeTrue(installed, "Debian chromium and chromium-driver are not installed");
        }
        assertTrue(installed, "CI must have /usr/bin/chromium and /usr/bin/chromedriver (see .ci/run)");
        return new ChromeDriverService.Builder().usingDriverExecutable(DRIVER).usingAnyFreePort().build();
    }

    private static WebDriver browser(ChromeDriverService service) throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--user-data-dir=" + Files.createTempDirectory("chromium").toAbsolutePath());
        return new ChromeDriver(service, options);
    }

    @Test
    void typeClickAndSeeTheLabel() throws Exception {
        ChromeDriverService service = browserService();
        try (ServerFixture fx = new ServerFixture(ServerFixture::fakeModel)) {
            WebDriver driver = browser(service);
            try {
                driver.get(fx.base + "/");
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(20));
                wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("model"), "test-run"));
                assertTrue(driver.findElement(By.id("model")).getText()
                        .contains("fine-tuned from bert-base-multilingual-cased (104 languages)"),
                        driver.findElement(By.id("model")).getText());
                driver.findElement(By.id("text")).sendKeys("A good, warm and funny film.");
                driver.findElement(By.id("classify")).click();
                wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("result")));
                assertEquals("positive", driver.findElement(By.id("label")).getText());
                List<WebElement> bars = driver.findElements(By.cssSelector("#bars .bar"));
                assertEquals(3, bars.size(), "one bar per label");
                assertEquals("70.0%", bars.get(2).findElement(By.className("value")).getText());

                driver.findElement(By.id("text")).clear();
                driver.findElement(By.id("classify")).click();
                wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"), "empty"));
            } finally {
                driver.quit();
                service.stop();
            }
        }
    }

    @Test
    void aMultiLabelAnswerShowsEveryLabelOverItsThresholdWithTheThresholdMarked() throws Exception {
        ChromeDriverService service = browserService();
        // positive 0.8 >= 0.5 and neutral 0.45 >= 0.3 are chosen; negative 0.1 < 0.5 is not
        try (ServerFixture fx = new ServerFixture(() -> ServerFixture.multiLabelCandidate("multi-run",
                texts -> texts.stream().map(t -> new float[]{0.1f, 0.45f, 0.8f}).toArray(float[][]::new)))) {
            WebDriver driver = browser(service);
            try {
                driver.get(fx.base + "/");
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(20));
                wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("model"), "multi-label"));
                driver.findElement(By.id("text")).sendKeys("Not bad at all, I think.");
                driver.findElement(By.id("classify")).click();
                wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("result")));
                assertEquals("positive, neutral", driver.findElement(By.id("label")).getText());
                List<WebElement> bars = driver.findElements(By.cssSelector("#bars .bar"));
                assertEquals(List.of("positive", "neutral", "negative"),
                        bars.stream().map(b -> b.getAttribute("data-label")).toList(), "most probable first");
                assertEquals(2, driver.findElements(By.cssSelector("#bars .bar.chosen")).size());
                List<WebElement> marks = driver.findElements(By.cssSelector("#bars .threshold"));
                assertEquals(3, marks.size(), "each label's threshold is marked");
                assertEquals("threshold 30.0%", bars.get(1).findElement(By.className("threshold"))
                        .getAttribute("title"));
            } finally {
                driver.quit();
                service.stop();
            }
        }
    }

    @Test
    void explainColoursEachWordByItsAttributionWithALegendAndTheGap() throws Exception {
        ChromeDriverService service = browserService();
        try (ServerFixture fx = new ServerFixture(() -> ServerFixture.explainingCandidate("explaining-run",
                ServerFixture::fakeModel, ServerFixture.fakeExplaining(text -> {
                })))) {
            WebDriver driver = browser(service);
            try {
                driver.get(fx.base + "/");
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(20));
                wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("model"), "explaining-run"));
                String text = "A good film with a bad end.";
                driver.findElement(By.id("text")).sendKeys(text);
                driver.findElement(By.id("explain")).click();
                wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("explanation")));
                assertEquals("positive", driver.findElement(By.id("label")).getText(), "the prediction too");
                List<WebElement> words = driver.findElements(By.cssSelector("#explained mark"));
                assertEquals(List.of("A", "good", "film", "with", "a", "bad", "end."),
                        words.stream().map(WebElement::getText).toList());
                assertEquals(text, driver.findElement(By.cssSelector("#explained p")).getText(), "the text as typed");
                // the fake gives "good" +1 and "bad" -1 toward positive: orange and blue at full depth, the rest white
                assertEquals("rgba(240, 160, 102, 1)", words.get(1).getCssValue("background-color"));
                assertEquals("rgba(158, 185, 229, 1)", words.get(5).getCssValue("background-color"));
                assertEquals("rgba(255, 255, 255, 1)", words.get(2).getCssValue("background-color"));
                assertEquals(2, driver.findElements(By.cssSelector("#explanation .legend mark")).size());
                assertTrue(driver.findElement(By.cssSelector("#explained .gap")).getText()
                        .contains("completeness gap 0.000 at 32 steps"));

                driver.findElement(By.id("classify")).click();
                wait.until(ExpectedConditions.invisibilityOfElementLocated(By.id("explanation")));
            } finally {
                driver.quit();
                service.stop();
            }
        }
    }
}
