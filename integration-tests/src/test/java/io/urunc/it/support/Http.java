package io.urunc.it.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.fail;

/** HTTP from the test to a guest that is still booting: retried within a bound. */
public final class Http {
    private Http() {}

    /** The body of the first 200 answer within {@code limit}; fails with the diagnostics otherwise. */
    public static String getWithin(Duration limit, String url, Supplier<String> diagnostics) throws InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + limit.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return r.body();
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(500);
        }
        return fail("no answer from " + url + " within " + limit + ": " + last + "\n" + diagnostics.get());
    }
}
