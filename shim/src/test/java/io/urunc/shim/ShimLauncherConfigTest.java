package io.urunc.shim;

import io.urunc.shim.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The shell launcher reads two keys of the config file itself; wherever it would read them differently from Java,
 * it must leave the file to Java. Seen through `delete`: if the launcher took the wrong state dir, it would find no
 * task record there and answer "nothing to clean" for a task whose VMM still runs.
 */
class ShimLauncherConfigTest {
    /** Spellings of the same setting that TOML allows; {@code S} is the state dir. */
    private static final List<String> SPELLINGS = List.of(
            "[ shim ]\nstate_dir = \"S\"\n",
            "[shim] # the shim\nstate_dir=\"S\"   # ours\n",
            "[shim]\nstate_dir = 'S'\n",
            "[\"shim\"]\nstate_dir = \"S\"\n",
            "shim.state_dir = \"S\"\n",
            "shim = { state_dir = \"S\" }\n",
            "[shim]\nstate_dir = \"\"\"S\"\"\"\n",
            "[shim]\n\"state_dir\" = \"S\"\n",
            "[shim]\n'state_dir' = \"S\"\n",
            // a header inside a multi-line string is text to TOML, a table to a line-by-line reader
            "[ shim ]\nstate_dir = \"S\"\n[log]\nlevel = \"\"\"\n[shim]\nstate_dir = \"W\"\n\"\"\"\n",
            "[monitors.qemu]\naccelerator = \"tcg\"\n[shim]\ngrouping = \"namespace\"\nstate_dir = \"S\"\n[log]\nlevel = \"info\"\n");

    private static int launcherDelete(Path config, Path bundle) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", Path.of("bin/containerd-shim-urunc-v2").toAbsolutePath().toString(),
                "-namespace", "cfg", "-address", "/run/x.sock", "-id", "c1", "delete").directory(bundle.toFile())
                .redirectErrorStream(true);
        pb.environment().put("URUNC_JAVA", "/bin/false");
        pb.environment().put("URUNC_HOME", "/nonexistent");
        pb.environment().put("URUNC_CONFIG_FILE", config.toString());
        Process p = pb.start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return p.exitValue();
    }

    @Test
    void everySpellingOfTheStateDirIsEitherReadAsJavaReadsItOrLeftToJava(@TempDir Path dir) throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        int i = 0;
        for (String spelling : SPELLINGS) {
            Path state = dir.resolve("state" + i++);
            Path elsewhere = Files.createDirectories(dir.resolve("elsewhere" + i));
            String toml = spelling.replace("S", state.toString()).replace("W", elsewhere.toString());
            Path config = dir.resolve("config" + i + ".toml");
            Files.writeString(config, toml);
            assertEquals(state, ConfigLoader.parse(toml, "test").stateDir(), "Java reads " + toml);
            // a task the daemon knows, recorded where Java says the state dir is
            Files.createDirectories(state.resolve("tasks/cfg"));
            Files.writeString(state.resolve("tasks/cfg/c1.json"), "{}");

            assertNotEquals(0, launcherDelete(config, bundle),
                    "the launcher answered delete itself, missing the task record, for:\n" + toml);
        }
    }

    @Test
    void thePlainSpellingIsStillReadWithoutJava(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("c.toml");
        Files.writeString(config, "[shim] # ours\nstate_dir = \"" + dir.resolve("state") + "\"  # tmpfs\n");
        Files.createDirectories(dir.resolve("state"));
        assertEquals(0, launcherDelete(config, Files.createDirectories(dir.resolve("bundle"))));
    }
}
