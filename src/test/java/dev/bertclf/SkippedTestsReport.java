package dev.bertclf;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Prints each test that did not run, with its reason (an assumption's message, such as a CPU feature it needs), so
 * that a test log says what was skipped and why, not only how many. Registered for every JUnit run through
 * {@code META-INF/services}.
 */
public class SkippedTestsReport implements TestExecutionListener {
    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (id.isTest() && result.getStatus() == TestExecutionResult.Status.ABORTED) {
            print(id, result.getThrowable().map(Throwable::getMessage).orElse("aborted"));
        }
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
        print(id, reason);
    }

    private static void print(TestIdentifier id, String reason) {
        String name = id.getSource().filter(MethodSource.class::isInstance).map(MethodSource.class::cast)
                .map(m -> m.getClassName().substring(m.getClassName().lastIndexOf('.') + 1) + "." + m.getMethodName())
                .orElse(id.getDisplayName());
        System.out.println("SKIPPED " + name + ": " + reason);
    }
}
