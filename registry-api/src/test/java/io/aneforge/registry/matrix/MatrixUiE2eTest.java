package io.aneforge.registry.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import tools.jackson.databind.JsonNode;

/**
 * The web UI in headless Chromium against a running registry whose results came in through the
 * real agent API (register, lease, report): the matrix shows the cells and their status, marks
 * the failing cell and the regression, promotion is refused with the gate reasons and succeeds
 * after an admin override. Saves a screenshot of the matrix to {@code target/matrix.png} (and to
 * {@code docs/matrix.png} with {@code -Daneforge.updateScreenshot=true}). Needs Debian's {@code chromium} and {@code chromium-driver}.
 */
class MatrixUiE2eTest extends MatrixTestSupport {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private WebDriver driver;
    private Path profile;

    @BeforeEach
    void browser() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "skipped: headless Chromium not installed (/usr/bin/chromium, /usr/bin/chromedriver);"
                        + " install with: apt-get update && apt-get install -y chromium chromium-driver");
        profile = Files.createTempDirectory("matrix-chromium");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile, "--window-size=1780,1000");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        driver.manage().window().setSize(new Dimension(1780, 1000));
    }

    @AfterEach
    void close() {
        if (driver != null) driver.quit();
    }

    private String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    private WebElement waitFor(By by) {
        return new WebDriverWait(driver, Duration.ofSeconds(30)).until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    /**
     * The text of the element {@code by} finds, located again if the page replaced it between finding and
     * reading it (the conversions panel re-renders its rows on every poll).
     */
    private String textOf(By by) {
        return new WebDriverWait(driver, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class)
                .until(d -> d.findElement(by).getText());
    }

    private String attributeOf(By by, String name) {
        return new WebDriverWait(driver, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class)
                .until(d -> d.findElement(by).getAttribute(name));
    }

    private WebElement cell(String variant, String cu) {
        return driver.findElement(By.cssSelector("td.cell[data-variant='" + variant + "'][data-cu='" + cu + "']"));
    }

    /** v1 passes every gate; v2 has a failing int8 cosine, a +25 % slower fp16 cell and a still-running M2 benchmark. */
    private void seed(String model) {
        createModel(model);
        assertThat(putGates(model, "{\"minCosine\":0.999,\"maxP50Ms\":{\"A17_PRO\":3.0},\"maxP50MsDefault\":8.0}",
                publisher()).status()).isEqualTo(200);
        for (int i = 0; i < 2; i++) {
            boolean second = i == 1;
            int v = createVersion(model);
            float salt = i * 0.001f;
            variant(model, v, "A17_PRO", "ane", "fp16", null, realPackage(64, 128, salt), List.of("cpuOnly", "cpuAndNeuralEngine", "all"));
            variant(model, v, "A17_PRO", "ane", "int8", 32, realPackage(64, 128, 0.5f + salt), List.of("cpuAndNeuralEngine", "all"));
            variant(model, v, "A17_PRO", "standard", "fp16", null, realPackage(64, 128, 0.25f + salt), List.of("cpuAndNeuralEngine"));
            variant(model, v, "M2", "ane", "fp16", null, realPackage(64, 128, 0.75f + salt), List.of("cpuAndNeuralEngine", "all"));
            setGolden(model, v);
            publish(model, v);
            runAgents(model, Map.of("A17_PRO", "mx-ui-a17", "M2", "mx-ui-m2"), (chip, precision, kind, cu) -> {
                if (kind.equals("accuracy")) {
                    return new Measured(precision.equals("int8") ? (second ? 0.9971 : 0.9995) : 0.99995);
                }
                if (chip.equals("M2")) return second && cu.equals("all") ? new Skip() : new Measured(cu.equals("all") ? 4.1 : 3.6);
                if (precision.equals("int8")) return new Measured(cu.equals("all") ? 1.6 : 1.4);
                return switch (cu) {
                    case "cpuOnly" -> new Measured(9.0);
                    case "all" -> new Measured(2.2);
                    default -> new Measured(second ? 2.5 : 2.0);
                };
            });
        }
    }

    @Test
    void matrixPageShowsCellsAndGatesAndPromotionNeedsAnOverride() throws Exception {
        seed("mx-ui");
        Response prod = moveAlias("mx-ui", "prod", 1, "first release");
        assertThat(prod.status()).as(prod.text()).isEqualTo(200);

        // The UI's files need no token; the API behind them still does.
        Response page = get("/ui/", null);
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.text()).contains("<script src=\"app.js\"></script>");
        assertThat(get("/ui/app.js", null).status()).isEqualTo(200);
        assertThat(get("/api/v1/models", null).status()).isEqualTo(401);

        driver.get(url("/ui/"));
        waitFor(By.id("token")).sendKeys("not-a-token");
        driver.findElement(By.id("login-button")).click();
        assertThat(waitFor(By.id("login-error")).getText()).contains("unknown or revoked");
        driver.findElement(By.id("token")).clear();
        driver.findElement(By.id("token")).sendKeys(ADMIN);
        driver.findElement(By.id("login-button")).click();
        waitFor(By.cssSelector("#models a[href='#/m/mx-ui']"));
        assertThat(driver.findElement(By.id("agents")).getText()).contains("mx-ui-a17").contains("mx-ui-m2");

        driver.get(url("/ui/#/m/mx-ui/v/2?baseline=1"));
        waitFor(By.cssSelector("#matrix td.cell"));
        assertThat(driver.findElement(By.id("verdict")).getAttribute("data-status")).isEqualTo("FAIL");
        assertThat(driver.findElement(By.id("verdict")).getText()).contains("A17_PRO int8-block32: cosine 0.9971 < 0.999");
        assertThat(driver.findElement(By.cssSelector("#matrix tr[data-variant='A17_PRO int8-block32']")).getAttribute("data-gate"))
                .isEqualTo("FAIL");
        assertThat(driver.findElement(By.cssSelector("#matrix tr[data-variant='A17_PRO fp16']")).getAttribute("data-gate"))
                .isEqualTo("PASS");
        assertThat(driver.findElement(By.cssSelector("#matrix tr[data-variant='A17_PRO standard fp16']")).getText())
                .contains("(comparison)");

        WebElement failingCosine = driver.findElement(By.cssSelector("#matrix tr[data-variant='A17_PRO int8-block32'] td.fidelity"));
        assertThat(failingCosine.getAttribute("data-gate")).isEqualTo("FAIL");
        assertThat(failingCosine.getAttribute("class")).contains("gate-FAIL");
        assertThat(failingCosine.getText()).contains("0.99710").contains("▼ -0.00240");
        assertThat(driver.findElement(By.cssSelector("#matrix tr[data-variant='A17_PRO fp16'] td.fidelity")).getAttribute("data-gate"))
                .isEqualTo("PASS");

        WebElement slower = cell("A17_PRO fp16", "cpuAndNeuralEngine");
        assertThat(slower.getAttribute("data-source")).isEqualTo("measured");
        assertThat(slower.getAttribute("data-gate")).isEqualTo("PASS");
        assertThat(slower.getText()).contains("2.50 ms").contains("mx-ui-a17").contains("▲ +25.0 %");
        assertThat(slower.findElement(By.cssSelector("[data-regression]")).getAttribute("data-regression")).isEqualTo("true");
        WebElement overLimit = cell("A17_PRO fp16", "cpuOnly");
        assertThat(overLimit.getAttribute("data-gate")).isEqualTo("FAIL");
        assertThat(overLimit.getAttribute("class")).contains("gate-FAIL");
        assertThat(cell("M2 fp16", "all").getAttribute("data-source")).isEqualTo("estimated");
        assertThat(cell("M2 fp16", "all").getText()).startsWith("~").contains("estimated");
        assertThat(cell("M2 fp16", "cpuAndNeuralEngine").getText()).contains("3.60 ms");
        assertThat(cell("A17_PRO standard fp16", "cpuOnly").getAttribute("data-source")).isEqualTo("none");
        assertThat(driver.findElement(By.id("regressions")).getText())
                .contains("A17_PRO fp16 seq128 iOS18.0 on cpuAndNeuralEngine: p50 2.50 ms vs 2.00 ms (+25.0 %) exceeds +10.0 %")
                .contains("A17_PRO int8-block32 seq128 iOS18.0: cosine 0.99710 vs 0.99950");

        slower.click();
        String details = waitFor(By.id("cell-details")).getText();
        assertThat(details).contains("mx-ui-a17").contains("24B83").contains("coreml").contains("10 warm-up, 100 timed")
                .contains("Baseline v1");

        byte[] png = ((org.openqa.selenium.TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES);
        assertThat(png.length).isGreaterThan(10_000);
        Path target = Path.of("target", "matrix.png");
        Files.createDirectories(target.getParent());
        Files.write(target, png);
        // The README's screenshot is refreshed only on request, so a test run never edits the source tree:
        // ./mvnw -pl registry-api -am verify -Dtest=MatrixUiE2eTest -Daneforge.updateScreenshot=true
        Path repoDocs = Path.of("..", "docs");
        if (Boolean.getBoolean("aneforge.updateScreenshot") && Files.isRegularFile(Path.of("..", "pom.xml"))) {
            Files.createDirectories(repoDocs);
            Files.copy(target, repoDocs.resolve("matrix.png"), StandardCopyOption.REPLACE_EXISTING);
        }

        // Promotion: refused with the gate reasons, then an admin override with a reason.
        driver.findElement(By.cssSelector("#details button")).click();
        driver.findElement(By.id("reason")).sendKeys("faster fp16 on M2");
        driver.findElement(By.id("promote")).click();
        WebElement refused = waitFor(By.id("refused"));
        assertThat(refused.getText()).contains("Refused: the release gates are FAIL")
                .contains("A17_PRO int8-block32: cosine 0.9971 < 0.999");
        assertThat(get("/api/v1/models/mx-ui/aliases/prod", reader()).json().path("version").asInt()).isEqualTo(1);

        driver.findElement(By.id("override-reason")).sendKeys("int8 cosine accepted by QA for this release");
        driver.findElement(By.id("override")).click();
        WebElement promoted = waitFor(By.id("promoted"));
        assertThat(promoted.getAttribute("data-version")).isEqualTo("2");
        assertThat(promoted.getText()).contains("prod → v2").contains("gates overridden");

        assertThat(get("/api/v1/models/mx-ui/aliases/prod", reader()).json().path("version").asInt()).isEqualTo(2);
        JsonNode history = get("/api/v1/models/mx-ui/aliases/prod/history", reader()).json();
        JsonNode last = history.get(history.size() - 1);
        assertThat(last.path("overridden").asBoolean()).isTrue();
        assertThat(last.path("reason").asString()).isEqualTo("int8 cosine accepted by QA for this release");
        assertThat(last.path("gateStatus").asString()).isEqualTo("FAIL");
        assertThat(new File(target.toString())).exists();
    }

    /** The home page's conversions panel follows a running conversion until it fails; the version page shows it too. */
    @Test
    void conversionsPanelRefreshesWhileAConversionIsLive() {
        createModel("conv-ui");
        Response v = send("POST", "/api/v1/models/conv-ui/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/conv-ui", "revision", "main"), "chips", List.of("A14")));
        assertThat(v.status()).as(v.text()).isEqualTo(201);
        int version = v.json().path("version").asInt();
        JsonNode c = get("/api/v1/models/conv-ui/versions/" + version + "/conversion", reader()).json();
        long id = c.path("id").asLong();
        int planned = c.path("variants").size();
        Response lease = send("POST", "/api/v1/conversions/" + id + "/lease", token("worker"), Map.of("worker", "ui-worker"));
        String leaseToken = lease.json().path("leaseToken").asString();
        assertThat(send("POST", "/api/v1/conversions/" + id + "/progress", token("worker"),
                Map.of("leaseToken", leaseToken, "step", "fetch")).status()).isEqualTo(200);

        driver.get(url("/ui/"));
        waitFor(By.id("token")).sendKeys(ADMIN);
        driver.findElement(By.id("login-button")).click();
        By row = By.cssSelector("#conversions tr[data-id='" + id + "']");
        waitFor(row);
        assertThat(attributeOf(row, "data-state")).isEqualTo("running");
        assertThat(textOf(row)).contains("conv-ui").contains("v" + version).contains("fetch")
                .contains("0 / " + planned).contains("ui-worker");

        // No reload: the panel polls every 5 s while a conversion is live.
        assertThat(send("POST", "/api/v1/conversions/" + id + "/fail", token("worker"),
                Map.of("leaseToken", leaseToken, "reason", "fetch: org/conv-ui: repository not found")).status()).isEqualTo(200);
        new WebDriverWait(driver, Duration.ofSeconds(20)).until(ExpectedConditions.attributeToBe(row, "data-state", "failed"));
        assertThat(textOf(row)).contains("repository not found");

        driver.get(url("/ui/#/m/conv-ui/v/" + version));
        WebElement panel = waitFor(By.id("conversion"));
        assertThat(panel.getAttribute("data-state")).isEqualTo("failed");
        assertThat(panel.getText()).contains("failed").contains("step fetch").contains("0 / " + planned)
                .contains("repository not found");
    }
}
