package dev.bertclf;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.io.PrintWriter;
import java.util.Arrays;

/**
 * A child JVM's main: runs the test classes named in its arguments with JUnit's launcher, prints each test's outcome
 * (with an assumption's reason) and the summary, and exits 0 only if at least one test passed and none failed. A test
 * that must run some tests under another environment (an ISA cap) starts it and reads what it prints.
 */
public final class TestClassesRun {
    /** Starts each outcome line: {@code TEST SUCCESSFUL name}, {@code TEST ABORTED name: reason}. */
    public static final String OUTCOME = "TEST ";

    private TestClassesRun() {
    }

    public static void main(String[] classNames) {
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener outcomes = new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isTest()) {
                    System.out.println(OUTCOME + result.getStatus() + " " + id.getLegacyReportingName()
                            + result.getThrowable().map(t -> ": " + t.getMessage()).orElse(""));
                }
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                System.out.println(OUTCOME + "SKIPPED " + id.getLegacyReportingName() + ": " + reason);
            }
        };
        launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(Arrays.stream(classNames)
                .map(DiscoverySelectors::selectClass).toList()).build(), summary, outcomes);
        TestExecutionSummary s = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printTo(out);
        s.printFailuresTo(out, 30);
        System.exit(s.getTotalFailureCount() == 0 && s.getTestsSucceededCount() > 0 ? 0 : 1);
    }
}
