package io.urunc.builder;

import java.util.Arrays;
import java.util.stream.Collectors;

/** What the build writes. */
public enum OutputFormat {
    /** An OCI image layout packed in a tar (what {@code ctr images import} and {@code skopeo oci-archive:} read). */
    OCI_TAR("oci-tar"),
    /** An OCI image layout directory ({@code skopeo copy oci:DIR ...}). */
    OCI_DIR("oci-dir"),
    /** {@code docker save} format: manifest.json, config and uncompressed layer tars ({@code docker load}). */
    DOCKER_ARCHIVE("docker-archive");

    private final String cliName;

    OutputFormat(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    public static OutputFormat parse(String s) throws BuildException {
        for (OutputFormat f : values()) if (f.cliName.equals(s)) return f;
        throw new BuildException("unknown output format '" + s + "': expected one of "
                + Arrays.stream(values()).map(OutputFormat::cliName).collect(Collectors.joining(", ")));
    }
}
