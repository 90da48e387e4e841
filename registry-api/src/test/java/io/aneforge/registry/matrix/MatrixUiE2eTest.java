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
import org.openqa.selenium.JavascriptExecutor;
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
        // the console, where Chromium reports what the UI's content security policy blocked
        options.setCapability("goog:loggingPrefs", java.util.Map.of("browser", "ALL"));
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
        return new WebDriverWait(driver, Duration.ofSeconds(30)).ignoring(StaleElementReferenceException.class).until(ExpectedConditions.visibilityOfElementLocated(by));
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

    /** review-d #26: nothing the page did so far was blocked by its content security policy. */
    private void assertNoCspViolations() {
        List<String> blocked = driver.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll().stream()
                .map(e -> e.getMessage()).filter(m -> m.contains("Content Security Policy")).toList();
        assertThat(blocked).isEmpty();
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Logs in as admin, with live panels polling every 300 ms instead of 5 s (the UI's test knob). */
    private void login() {
        driver.get(url("/ui/"));
        WebElement tokenField = waitFor(By.id("token"));
        js("sessionStorage.setItem('aneforge.refreshMs', '300')");
        tokenField.sendKeys(ADMIN);
        driver.findElement(By.id("login-button")).click();
        waitFor(By.id("conversions-panel"));
    }

    /** Goes to a page of the UI the way a link does: the hash changes, the document stays. */
    private void go(String hash) {
        js("location.hash = arguments[0]", hash);
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
        Response prod = moveAlias("mx-ui", "production", 1, "first release");
        assertThat(prod.status()).as(prod.text()).isEqualTo(200);

        // The UI's files need no token; the API behind them still does.
        Response page = get("/ui/", null);
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.text()).contains("<script src=\"app.js\"></script>");
        assertThat(page.header("Content-Security-Policy")).contains("default-src 'self'").contains("frame-ancestors 'none'");
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
        // review-d #12: the cosine says it came from the reference runtime, never passing for the chip's own number
        assertThat(failingCosine.getText()).contains("reference-cpu").contains("not on A17_PRO");
        assertThat(driver.findElement(By.cssSelector("#matrix tr[data-variant='A17_PRO fp16'] td.fidelity")).getAttribute("data-gate"))
                .isEqualTo("PASS");

        // the promote form's alias is resolve's default
        assertThat(driver.findElement(By.id("alias")).getAttribute("value")).isEqualTo("production");

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
                .contains("Baseline v1").contains("Variant cosine").contains("reference-cpu");
        // the close button is floated by app.css (a style attribute would be blocked), and nothing else was blocked
        assertThat(driver.findElement(By.id("close-details")).getCssValue("float")).isEqualTo("right");
        assertNoCspViolations();

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
        assertThat(get("/api/v1/models/mx-ui/aliases/production", reader()).json().path("version").asInt()).isEqualTo(1);

        driver.findElement(By.id("override-reason")).sendKeys("int8 cosine accepted by QA for this release");
        driver.findElement(By.id("override")).click();
        WebElement promoted = waitFor(By.id("promoted"));
        assertThat(promoted.getAttribute("data-version")).isEqualTo("2");
        assertThat(promoted.getText()).contains("production → v2").contains("gates overridden");

        assertThat(get("/api/v1/models/mx-ui/aliases/production", reader()).json().path("version").asInt()).isEqualTo(2);
        JsonNode history = get("/api/v1/models/mx-ui/aliases/production/history", reader()).json();
        JsonNode last = history.get(history.size() - 1);
        assertThat(last.path("overridden").asBoolean()).isTrue();
        assertThat(last.path("reason").asString()).isEqualTo("int8 cosine accepted by QA for this release");
        assertThat(last.path("gateStatus").asString()).isEqualTo("FAIL");
        assertThat(new File(target.toString())).exists();

        // The model page lists the aliases and where they point now.
        driver.get(url("/ui/#/m/mx-ui"));
        assertThat(waitFor(By.id("aliases")).getText()).contains("production → v2");
    }

    /**
     * The model page deletes an alias only after a confirm with a reason, through DELETE .../aliases/{alias}, and shows
     * a refusal in the registry's words: a missing reason, and an alias someone else deleted meanwhile.
     */
    @Test
    void modelPageDeletesAnAliasAfterAConfirmAndShowsRefusals() {
        String m = "ui-alias";
        createModel(m);
        int v = createVersion(m);
        addVariant(m, v, "A17_PRO", "18.0", "ane", "fp16");
        publishWithoutGoldenData(m, v);
        assertThat(moveAlias(m, "production", v, "first release").status()).isEqualTo(200);
        assertThat(moveAlias(m, "staging", v, "try it").status()).isEqualTo(200);

        login();
        go("#/m/" + m);
        assertThat(waitFor(By.id("alias-table")).getText()).contains("production → v1").contains("staging → v1");
        assertThat(textOf(By.cssSelector("#versions tr[data-version='1'] td.aliases"))).isEqualTo("production, staging");

        // Delete asks first; Cancel deletes nothing
        driver.findElement(By.cssSelector("button[data-delete-alias='staging']")).click();
        assertThat(waitFor(By.id("alias-confirm")).getText()).contains("Delete alias staging (→ v1)?")
                .contains("alias-not-set");
        driver.findElement(By.id("alias-delete-cancel")).click();
        new WebDriverWait(driver, Duration.ofSeconds(10)).until(ExpectedConditions.invisibilityOfElementLocated(By.id("alias-confirm")));
        assertThat(get("/api/v1/models/" + m + "/aliases/staging", reader()).status()).isEqualTo(200);

        // no reason: the registry's refusal, title and detail, with its request id
        driver.findElement(By.cssSelector("button[data-delete-alias='staging']")).click();
        waitFor(By.id("alias-delete-confirm")).click();
        WebElement error = waitFor(By.id("alias-error"));
        assertThat(error.getText()).startsWith("Reason required: field 'reason' is required and must not be blank (request id ");
        assertThat(error.getAttribute("data-status")).isEqualTo("400");
        assertThat(get("/api/v1/models/" + m + "/aliases/staging", reader()).status()).isEqualTo(200);

        driver.findElement(By.id("alias-delete-reason")).sendKeys("staging is retired");
        driver.findElement(By.id("alias-delete-confirm")).click();
        assertThat(waitFor(By.id("notice")).getText()).isEqualTo("Alias staging deleted: resolve now answers alias-not-set for it.");
        assertThat(waitFor(By.id("alias-table")).getText()).contains("production → v1").doesNotContain("staging");
        assertThat(textOf(By.cssSelector("#versions tr[data-version='1'] td.aliases"))).isEqualTo("production");
        assertThat(get("/api/v1/models/" + m + "/aliases/staging", reader()).problem()).isEqualTo("alias-not-set");
        JsonNode history = get("/api/v1/models/" + m + "/aliases/staging/history", reader()).json();
        JsonNode last = history.get(history.size() - 1);
        assertThat(last.path("toVersion").isNull()).isTrue();
        assertThat(last.path("reason").asString()).isEqualTo("staging is retired");
        assertThat(last.path("changedBy").asString()).isEqualTo("bootstrap-admin");

        // deleted by someone else between the page's load and the confirm: 404 alias-not-set, shown as such
        driver.findElement(By.cssSelector("button[data-delete-alias='production']")).click();
        waitFor(By.id("alias-delete-reason")).sendKeys("withdraw v1");
        assertThat(send("DELETE", "/api/v1/models/" + m + "/aliases/production", publisher(),
                Map.of("reason", "withdrawn elsewhere")).status()).isEqualTo(204);
        driver.findElement(By.id("alias-delete-confirm")).click();
        error = waitFor(By.id("alias-error"));
        assertThat(error.getText()).startsWith("Alias not set: model 'ui-alias' has no alias 'production'");
        assertThat(error.getAttribute("data-status")).isEqualTo("404");
        assertNoCspViolations();
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

        login();
        By row = By.cssSelector("#conversions tr[data-id='" + id + "']");
        waitFor(row);
        assertThat(attributeOf(row, "data-state")).isEqualTo("running");
        assertThat(textOf(row)).contains("conv-ui").contains("v" + version).contains("fetch")
                .contains("0 / " + planned).contains("ui-worker");

        // No reload: the panel polls (every 5 s, here 300 ms) while a conversion is live.
        assertThat(send("POST", "/api/v1/conversions/" + id + "/fail", token("worker"),
                Map.of("leaseToken", leaseToken, "reason", "fetch: org/conv-ui: repository not found")).status()).isEqualTo(200);
        new WebDriverWait(driver, Duration.ofSeconds(20)).ignoring(StaleElementReferenceException.class).until(ExpectedConditions.attributeToBe(row, "data-state", "failed"));
        assertThat(textOf(row)).contains("repository not found");

        driver.get(url("/ui/#/m/conv-ui/v/" + version));
        waitFor(By.id("conversion"));
        // the page re-renders as it polls: read through the locator, never a WebElement found earlier
        assertThat(attributeOf(By.id("conversion"), "data-state")).isEqualTo("failed");
        assertThat(textOf(By.id("conversion"))).contains("failed").contains("step fetch").contains("0 / " + planned)
                .contains("repository not found");
    }

    /**
     * With nothing live the home page's conversions panel keeps asking, slower: a conversion started after the
     * page loaded (a CI job publishing a version) shows up without a reload, and a failed poll is a line above the
     * last list, which stays, until the registry answers again.
     */
    @Test
    void conversionsPanelShowsAConversionStartedAfterThePageLoaded() {
        createModel("conv-late-ui");
        login();
        js("sessionStorage.setItem('aneforge.refreshMaxMs', '1200')");
        driver.navigate().refresh(); // the home page again, polling with the keys just set
        waitFor(By.id("conversions-panel"));
        sleep(2500); // past the first doublings of the pause: the panel is now at its slowest (1.2 s here)

        Response v = send("POST", "/api/v1/models/conv-late-ui/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/conv-late-ui", "revision", "main"), "chips", List.of("A14")));
        assertThat(v.status()).as(v.text()).isEqualTo(201);
        long id = get("/api/v1/models/conv-late-ui/versions/" + v.json().path("version").asInt() + "/conversion", reader())
                .json().path("id").asLong();
        By row = By.cssSelector("#conversions tr[data-id='" + id + "']");
        waitFor(row);
        assertThat(attributeOf(row, "data-state")).isEqualTo("queued");
        assertThat(attributeOf(By.id("conversions-status"), "data-state")).isEqualTo("ok");

        js("const f = window.fetch; window.fetch = function (u, o) {"
                + " if (window.failConversions && String(u).includes('/conversions?')) return Promise.reject(new TypeError('Failed to fetch'));"
                + " return f.call(this, u, o); }; window.failConversions = true;");
        new WebDriverWait(driver, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class)
                .until(ExpectedConditions.attributeToBe(By.id("conversions-status"), "data-state", "error"));
        assertThat(textOf(By.id("conversions-status"))).contains("cannot reach the registry").contains("Failed to fetch")
                .contains("showing the last list").contains("retrying in");
        assertThat(attributeOf(row, "data-state")).as("the last list stays").isEqualTo("queued");
        js("window.failConversions = false");
        new WebDriverWait(driver, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class)
                .until(ExpectedConditions.attributeToBe(By.id("conversions-status"), "data-state", "ok"));
        // the test classes share one queue: no queued conversion is left for another class to lease
        assertThat(send("POST", "/api/v1/conversions/" + id + "/cancel", publisher(), null).status()).isEqualTo(200);
    }

    /**
     * Review findings on one page: numbers next to a gate show the digits that set them apart from it, an
     * 8000-character failure neither widens the page nor hides the details, the details panel covers no
     * column, a local source is named as such, and bad addresses get a clear message instead of the old page.
     */
    @Test
    void nearGateNumbersLongFailuresDetailsSourcesAndBadAddresses() {
        String model = "ui-near";
        createModel(model);
        assertThat(putGates(model, "{\"minCosine\":0.999,\"maxP50Ms\":{\"A17_PRO\":3.0}}", publisher()).status()).isEqualTo(200);
        int v = createVersion(model);
        variant(model, v, "A17_PRO", "ane", "fp16", null, realPackage(64, 128, 0.375f), List.of("cpuOnly", "cpuAndNeuralEngine", "all"));
        setGolden(model, v);
        publish(model, v);
        String longFailure = "E".repeat(8000);
        runAgents(model, Map.of("A17_PRO", "ui-near-a17"), (chip, precision, kind, cu) -> {
            if (kind.equals("accuracy")) return new Measured(0.9989996);
            return switch (cu) {
                case "cpuOnly" -> new Failed(longFailure);
                case "all" -> new Measured(3.0);
                default -> new Measured(3.004);
            };
        });
        Response local = send("POST", "/api/v1/models/" + model + "/versions", publisher(),
                Map.of("source", Map.of("type", "local", "path", "/srv/snapshots/ui-near")));
        assertThat(local.status()).as(local.text()).isEqualTo(201);
        int localVersion = local.json().path("version").asInt();

        // the review's window: at the class's 1780 px the 1400 px page never reaches the details panel
        driver.manage().window().setSize(new Dimension(1400, 900));
        login();
        go("#/m/" + model);
        assertThat(waitFor(By.cssSelector("#versions tr[data-version='" + localVersion + "'] td.source")).getText())
                .isEqualTo("local /srv/snapshots/ui-near");
        assertThat(driver.findElement(By.cssSelector("#versions tr[data-version='" + v + "'] td.source")).getText()).isEqualTo("upload");

        go("#/m/" + model + "/v/" + v);
        waitFor(By.cssSelector("#matrix td.cell"));
        String row = "A17_PRO fp16";
        WebElement cosine = driver.findElement(By.cssSelector("#matrix tr[data-variant='" + row + "'] td.fidelity"));
        assertThat(cosine.getAttribute("data-gate")).isEqualTo("FAIL");
        assertThat(cosine.getText()).startsWith("0.9989996").doesNotContain("0.99900");
        assertThat(cell(row, "cpuAndNeuralEngine").getAttribute("data-gate")).isEqualTo("FAIL");
        assertThat(cell(row, "cpuAndNeuralEngine").getText()).contains("3.004 ms");
        assertThat(cell(row, "all").getAttribute("data-gate")).isEqualTo("PASS");
        assertThat(cell(row, "all").getText()).contains("3.00 ms"); // exactly at the limit passes, and looks it
        // no baseline chosen: nothing of the missing regressions panel is printed
        assertThat(driver.findElement(By.id("app")).getText()).doesNotContain("null");

        WebElement failed = cell(row, "cpuOnly");
        assertThat(failed.getAttribute("data-source")).isEqualTo("failed");
        assertThat(failed.getText().length()).isLessThan(300);
        assertThat(pageFitsTheWindow()).as("page width").isTrue();

        failed.click();
        WebElement details = waitFor(By.id("cell-details"));
        assertThat(details.getText()).contains(longFailure);
        assertThat(pageFitsTheWindow()).as("page width with details open").isTrue();
        // The panel lies beside the matrix, not over it: every column can be seen and clicked.
        assertThat((Boolean) js("const d = document.getElementById('details').getBoundingClientRect();"
                + " const m = document.querySelector('.matrix-scroll').getBoundingClientRect(); return m.right <= d.left;"))
                .as("matrix ends left of the details panel").isTrue();
        WebElement download = driver.findElement(By.cssSelector("#matrix tr[data-variant='" + row + "'] button.download"));
        assertThat((Boolean) js("const b = arguments[0]; b.scrollIntoView({block: 'center', inline: 'center'});"
                + " const r = b.getBoundingClientRect(); return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === b;",
                download)).as("the last column's Download button is on top where it is shown").isTrue();
        driver.findElement(By.id("close-details")).click();
        assertThat((String) js("return document.body.className")).doesNotContain("details-open");

        go("#/m/%E0%A4%A");
        assertThat(waitFor(By.id("error")).getText()).contains("'%E0%A4%A' is not valid percent-encoding");
        assertThat(driver.findElements(By.id("matrix"))).as("the old page is gone").isEmpty();
        go("#/m/" + model + "/v/abc");
        new WebDriverWait(driver, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class).until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"),
                "version 'abc' is not a version number: versions are whole numbers from 1"));
        assertThat(driver.findElement(By.id("app")).getText()).doesNotContain("NaN");
    }

    private boolean pageFitsTheWindow() {
        return (Boolean) js("return document.documentElement.scrollWidth <= document.documentElement.clientWidth");
    }

    /** The version page fetches the matrix again while the version's conversion is live, and stops once it ends. */
    @Test
    void versionPageShowsVariantsAsItsConversionRegistersThem() throws Exception {
        String model = "conv-live-ui";
        createModel(model);
        Response v = send("POST", "/api/v1/models/" + model + "/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/conv-live-ui", "revision", "main"), "chips", List.of("A14")));
        assertThat(v.status()).as(v.text()).isEqualTo(201);
        int version = v.json().path("version").asInt();
        JsonNode c = get("/api/v1/models/" + model + "/versions/" + version + "/conversion", reader()).json();
        long id = c.path("id").asLong();
        Response lease = send("POST", "/api/v1/conversions/" + id + "/lease", token("worker"), Map.of("worker", "ui-live-worker"));
        assertThat(lease.status()).as(lease.text()).isEqualTo(200);
        String leaseToken = lease.json().path("leaseToken").asString();

        login();
        countMatrixFetches();
        go("#/m/" + model + "/v/" + version);
        waitFor(By.id("no-variants"));
        new WebDriverWait(driver, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class).until(ExpectedConditions.attributeToBe(By.id("conversion"), "data-state", "running"));

        JsonNode first = c.path("variants").get(0);
        JsonNode reg = first.path("registration");
        // a package the registration's facts hold for (the registry checks its specification version and input)
        String digest = upload(mlpackage(io.aneforge.mil.Target.IOS15, reg.path("seqLen").asInt(), Map.of("salt", "ui-live")));
        Map<String, Object> body = new java.util.HashMap<>(Map.of("chip", reg.path("chip").asString(),
                "deploymentTarget", reg.path("deploymentTarget").asString(), "layout", reg.path("layout").asString(),
                "precision", reg.path("precision").asString(), "seqLen", reg.path("seqLen").asInt(), "digest", digest));
        if (!reg.path("blockSize").isNull()) body.put("blockSize", reg.path("blockSize").asInt());
        Response registered = send("POST", "/api/v1/models/" + model + "/versions/" + version + "/variants", token("worker"), body);
        assertThat(registered.status()).as(registered.text()).isEqualTo(201);
        assertThat(send("POST", "/api/v1/conversions/" + id + "/progress", token("worker"), Map.of("leaseToken", leaseToken,
                "step", "variants", "variants", List.of(Map.of("specId", first.path("specId").asString(), "state", "registered",
                        "digest", digest, "variantId", registered.json().path("id").asLong())))).status()).isEqualTo(200);

        // no reload: the new variant's row appears
        new WebDriverWait(driver, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class).until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#matrix tr[data-variant]")));

        // Cancelling fails the draft version and drops its variants: the poll that sees the conversion end
        // fetches the matrix once more. The page goes on asking (results come after conversions), but the
        // registry answers 304 and the page leaves the matrix alone.
        assertThat(send("POST", "/api/v1/conversions/" + id + "/cancel", publisher(), null).status()).isEqualTo(200);
        new WebDriverWait(driver, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class).until(ExpectedConditions.attributeToBe(By.id("conversion"), "data-state", "cancelled"));
        waitFor(By.id("no-variants"));
        assertThat(textOf(By.id("version-status"))).isEqualTo("(failed)");
        js("document.getElementById('no-variants').marked = true; window.matrixStatuses = [];");
        new WebDriverWait(driver, Duration.ofSeconds(10)).until(d -> ((Number) js("return window.matrixStatuses.length")).intValue() >= 2);
        assertThat(matrixStatuses()).as("matrix answers after the conversion ended").containsOnly(304L);
        assertThat((Boolean) js("return document.getElementById('no-variants').marked === true")).as("the matrix was not rendered again").isTrue();
    }

    /** Counts the page's matrix requests (window.matrixFetches) and keeps their statuses (window.matrixStatuses). */
    private void countMatrixFetches() {
        js("window.matrixFetches = 0; window.matrixStatuses = []; window.failMatrix = false; const f = window.fetch;"
                + " window.fetch = function (u, o) {"
                + "   if (!String(u).includes('/matrix')) return f.call(this, u, o);"
                + "   window.matrixFetches++;"
                + "   if (window.failMatrix) return Promise.reject(new TypeError('Failed to fetch'));"
                + "   return f.call(this, u, o).then(r => { window.matrixStatuses.push(r.status); return r; });"
                + " };");
    }

    private List<Long> matrixStatuses() {
        return ((List<?>) js("return window.matrixStatuses")).stream().map(o -> ((Number) o).longValue()).toList();
    }

    /** Makes the page believe its tab was hidden or shown again (headless Chromium's tab is always visible). */
    private void tabVisible(boolean visible) {
        js(visible ? "delete document.visibilityState;"
                : "Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });");
        js("document.dispatchEvent(new Event('visibilitychange'))");
    }

    /**
     * Agents report results long after a conversion: with no conversion live, a benchmark result reported after
     * the page loaded appears without a reload, as a regression whose percentage reads past the threshold; the
     * open cell details follow it; a hidden tab makes no requests and refreshes when shown; an unreachable
     * registry is a line above the matrix, which stays.
     */
    @Test
    void lateResultsAppearWithoutAReloadWhileThePageIsVisible() {
        String model = "ui-late";
        createModel(model);
        int[] v = new int[2];
        String row = "A17_PRO fp16";
        String cu = "cpuAndNeuralEngine";
        for (int i = 0; i < 2; i++) {
            v[i] = createVersion(model);
            variant(model, v[i], "A17_PRO", "ane", "fp16", null, realPackage(64, 128, 0.875f + i * 0.001f), List.of(cu));
            setGolden(model, v[i]);
            publish(model, v[i]);
            // v1's results are in; v2's are still to come
            if (i == 0) runAgents(model, Map.of("A17_PRO", "ui-late-a17"), (chip, precision, kind, c) ->
                    new Measured(kind.equals("accuracy") ? 0.99995 : 2.0));
        }
        assertThat(matrix(model, v[1], "").path("rows").get(0).path("cells").path(cu).path("source").asString()).isNotEqualTo("measured");

        login();
        js("sessionStorage.setItem('aneforge.refreshMaxMs', '1200')");
        countMatrixFetches();
        go("#/m/" + model + "/v/" + v[1] + "?baseline=" + v[0]);
        waitFor(By.cssSelector("#matrix td.cell"));
        assertThat(cell(row, cu).getAttribute("data-source")).isIn("estimated", "pending");
        assertThat(textOf(By.id("regression-thresholds"))).contains("more than +10 % slower").contains("0.0005");
        cell(row, cu).click();
        waitFor(By.id("cell-details"));
        // nothing new: the page keeps asking, and the registry answers 304
        new WebDriverWait(driver, Duration.ofSeconds(10)).until(d -> matrixStatuses().contains(304L));
        assertThat(attributeOf(By.id("matrix-status"), "data-state")).isEqualTo("ok");
        assertThat(textOf(By.id("matrix-status"))).startsWith("Updated ").contains("checked");

        // hidden: no requests, even when a result arrives
        tabVisible(false);
        long before = ((Number) js("return window.matrixFetches")).longValue();
        runAgents(model, Map.of("A17_PRO", "ui-late-a17"), (chip, precision, kind, c) ->
                new Measured(kind.equals("accuracy") ? 0.99995 : 2.2008)); // +10.04 %
        sleep(1600); // longer than the slowest poll interval (1.2 s here)
        // a poll that had started before the tab was hidden may still land
        assertThat(((Number) js("return window.matrixFetches")).longValue()).as("requests while hidden").isLessThanOrEqualTo(before + 1);
        long hidden = ((Number) js("return window.matrixFetches")).longValue();
        sleep(1300);
        assertThat(((Number) js("return window.matrixFetches")).longValue()).as("requests while hidden").isEqualTo(hidden);

        // shown again: it asks at once, and the result appears
        tabVisible(true);
        new WebDriverWait(driver, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class)
                .until(ExpectedConditions.attributeToBe(By.cssSelector("td.cell[data-variant='" + row + "'][data-cu='" + cu + "']"), "data-source", "measured"));
        String text = textOf(By.cssSelector("td.cell[data-variant='" + row + "'][data-cu='" + cu + "']"));
        assertThat(text).contains("2.20 ms").contains("▲ +10.04 %").doesNotContain("+10.0 %");
        assertThat(textOf(By.id("regressions"))).contains("p50 2.201 ms vs 2.00 ms (+10.04 %) exceeds +10.0 %");
        // the open details followed the refresh instead of closing or going stale
        assertThat(attributeOf(By.cssSelector("td.cell[data-variant='" + row + "'][data-cu='" + cu + "']"), "class")).contains("selected");
        assertThat(textOf(By.id("cell-details"))).contains("measured").contains("ui-late-a17").contains("(+10.04 %, a regression)");
        assertThat((String) js("return document.body.className")).contains("details-open");

        // the registry cannot be reached: a line says so and how old the matrix is; the matrix stays
        js("window.failMatrix = true");
        new WebDriverWait(driver, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class)
                .until(ExpectedConditions.attributeToBe(By.id("matrix-status"), "data-state", "error"));
        assertThat(textOf(By.id("matrix-status"))).contains("Cannot reach the registry").contains("Failed to fetch")
                .contains("showing the matrix as of").contains("retrying in");
        assertThat(attributeOf(By.cssSelector("td.cell[data-variant='" + row + "'][data-cu='" + cu + "']"), "data-source")).isEqualTo("measured");
        assertThat(driver.findElements(By.id("error"))).as("no error page").isEmpty();
        js("window.failMatrix = false");
        new WebDriverWait(driver, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class)
                .until(ExpectedConditions.attributeToBe(By.id("matrix-status"), "data-state", "ok"));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
