package io.urunc.builder;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;

/** Progress lines on stderr for layers large enough to take a noticeable time. */
final class Progress {
    static final long LARGE = 8L << 20;
    private final PrintStream err;
    private final boolean quiet;

    Progress(PrintStream err, boolean quiet) {
        this.err = err;
        this.quiet = quiet;
    }

    void say(String line) {
        if (!quiet) err.println(line);
    }

    Meter meter(String what, long total) {
        return new Meter(what, total);
    }

    final class Meter {
        private final String what;
        private final long total;
        private long done;
        private int lastQuarter;

        private Meter(String what, long total) {
            this.what = what;
            this.total = total;
        }

        InputStream wrap(InputStream in) {
            return new FilterInputStream(in) {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) advance(n);
                    return n;
                }
            };
        }

        private void advance(long n) {
            done += n;
            if (quiet || total < LARGE) return;
            int quarter = (int) (done * 4 / total);
            if (quarter > lastQuarter && quarter < 4) {
                lastQuarter = quarter;
                err.printf("  %s: %d%% of %.1f MB%n", what, quarter * 25, total / 1e6);
            }
        }

        void done() {
            if (!quiet && total >= LARGE) err.printf("  %s: 100%% of %.1f MB%n", what, total / 1e6);
        }
    }
}
