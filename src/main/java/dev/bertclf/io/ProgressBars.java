package dev.bertclf.io;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** The project's progress bars on the console: one style for long work (training, evaluation, download, predict). */
public final class ProgressBars {
    private ProgressBars() {
    }

    /** A builder in the project's style, for bars that need more (a unit, say). */
    public static ProgressBarBuilder builder(String task, long max) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(1000);
    }

    /** A bar of {@code max} steps named {@code task}. */
    public static ProgressBar of(String task, long max) {
        return builder(task, max).build();
    }
}
