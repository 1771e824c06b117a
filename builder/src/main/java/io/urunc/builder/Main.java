package io.urunc.builder;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The urunc-build command line. */
public final class Main {
    static final String VERSION = "0.1.0";
    static final String USAGE = """
            Usage: urunc-build build -t NAME[:TAG] [OPTIONS] CONTEXT_DIR
                   urunc-build --help | --version

            Packs a unikernel (kernel, initrd, block images, files) into an OCI image that urunc and the
            io.containerd.urunc.v2 shim can run, from a Containerfile with FROM scratch, COPY, LABEL and ARG.

            Options:
              -t, --tag NAME[:TAG]        image name (the tag defaults to latest)
              -f, --file PATH             the Containerfile (default: CONTEXT_DIR/Containerfile, else Dockerfile)
                  --build-arg NAME=VALUE  set an ARG (repeatable)
                  --output FORMAT         oci-tar (default), oci-dir or docker-archive
              -o, --out PATH              where to write the image (default: ./NAME-TAG.tar, or ./NAME-TAG for oci-dir)
                  --import SOCKET         also import the image into containerd at SOCKET (runs ctr images import)
                  --namespace NS          containerd namespace for --import (default: default)
              -q, --quiet                 print only the manifest digest
              -h, --help                  show this help

            Labels urunc reads (com.urunc.unikernel.*):
              unikernelType   linux, unikraft, rumprun, mirage, mewz or hermit        (required)
              hypervisor      qemu, firecracker, hvt or spt                          (required)
              binary          path of the kernel in the image                        (required)
              cmdline         the application's command line; also the image Cmd
              initrd, block, blkMntPoint, unikernelVersion, mountRootfs              (optional)

            The image gets the labels as config Labels (plain text), the com.urunc.unikernel.* ones as manifest
            annotations and in /urunc.json (its own layer), base64-encoded as bima and urunc expect. Builds are
            reproducible: files and the image are dated SOURCE_DATE_EPOCH (default 0), tar entries are sorted
            and owned by 0:0.

            Example:
              urunc-build build -t example.com/hello:1 -f Containerfile --import /run/containerd/containerd.sock .

            Exit status: 0 built, 1 build failed, 2 bad command line.
            """;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the CLI; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Cli cli;
        try {
            cli = Cli.parse(args);
        } catch (UsageException e) {
            err.println("urunc-build: " + e.getMessage());
            err.println("Run 'urunc-build --help' for usage.");
            return 2;
        }
        if (cli.help) {
            out.print(USAGE);
            return 0;
        }
        if (cli.version) {
            out.println("urunc-build " + VERSION);
            return 0;
        }
        Path tempOutput = null;
        try {
            BuildRequest req = cli.request();
            if (cli.output == null && cli.importSocket != null) {
                tempOutput = Files.createTempFile("urunc-build-", ".tar");
                req = new BuildRequest(req.reference(), req.containerfile(), req.context(), req.buildArgs(),
                        OutputFormat.OCI_TAR, tempOutput, req.epochSeconds(), req.quiet());
            }
            if (cli.importSocket != null && req.format() != OutputFormat.OCI_TAR) {
                throw new BuildException("--import needs --output oci-tar (ctr imports OCI archives)");
            }
            BuiltImage image = new ImageBuilder(err, cli.quiet).build(req);
            if (cli.importSocket != null) {
                if (!cli.quiet) err.println("importing into containerd at " + cli.importSocket + " (namespace " + cli.namespace + ")");
                String ctrOut = CtrImport.run(Path.of(cli.importSocket), cli.namespace, image.output());
                if (!cli.quiet && !ctrOut.isBlank()) err.print(ctrOut);
            }
            out.println(image.manifestDigest());
            return 0;
        } catch (BuildException e) {
            err.println("urunc-build: " + e.getMessage());
            return 1;
        } catch (java.io.IOException e) {
            err.println("urunc-build: " + e.getMessage());
            return 1;
        } finally {
            if (tempOutput != null) FileTrees.deleteQuietly(tempOutput);
        }
    }

    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    /** Parsed command line. */
    static final class Cli {
        boolean help;
        boolean version;
        boolean quiet;
        String tag;
        String file;
        String format = "oci-tar";
        String output;
        String importSocket;
        String namespace = "default";
        String context;
        final Map<String, String> buildArgs = new LinkedHashMap<>();

        static Cli parse(String[] args) throws UsageException {
            Cli c = new Cli();
            List<String> positional = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String inline = null;
                if (a.startsWith("--") && a.contains("=")) {
                    inline = a.substring(a.indexOf('=') + 1);
                    a = a.substring(0, a.indexOf('='));
                }
                switch (a) {
                    case "-h", "--help", "help" -> c.help = true;
                    case "--version" -> c.version = true;
                    case "-q", "--quiet" -> c.quiet = true;
                    case "-t", "--tag" -> c.tag = inline != null ? inline : value(args, ++i, a);
                    case "-f", "--file" -> c.file = inline != null ? inline : value(args, ++i, a);
                    case "--output" -> c.format = inline != null ? inline : value(args, ++i, a);
                    case "-o", "--out" -> c.output = inline != null ? inline : value(args, ++i, a);
                    case "--import" -> c.importSocket = inline != null ? inline : value(args, ++i, a);
                    case "--namespace", "-n" -> c.namespace = inline != null ? inline : value(args, ++i, a);
                    case "--build-arg" -> {
                        String kv = inline != null ? inline : value(args, ++i, a);
                        int eq = kv.indexOf('=');
                        if (eq <= 0) throw new UsageException("--build-arg needs NAME=VALUE, got '" + kv + "'");
                        c.buildArgs.put(kv.substring(0, eq), kv.substring(eq + 1));
                    }
                    default -> {
                        if (a.startsWith("-") && !a.equals("-")) throw new UsageException("unknown option " + a);
                        positional.add(args[i]);
                    }
                }
            }
            if (c.help || c.version) return c;
            if (positional.isEmpty()) throw new UsageException("missing command: urunc-build build ...");
            if (!positional.getFirst().equals("build")) throw new UsageException("unknown command '" + positional.getFirst() + "'");
            if (positional.size() < 2) throw new UsageException("missing CONTEXT_DIR");
            if (positional.size() > 2) throw new UsageException("unexpected argument '" + positional.get(2) + "'");
            c.context = positional.get(1);
            if (c.tag == null) throw new UsageException("missing -t NAME[:TAG]");
            return c;
        }

        private static String value(String[] args, int i, String option) throws UsageException {
            if (i >= args.length) throw new UsageException(option + " needs a value");
            return args[i];
        }

        BuildRequest request() throws BuildException {
            ImageReference ref = ImageReference.parse(tag);
            OutputFormat fmt = OutputFormat.parse(format);
            Path ctx = Path.of(context);
            Path cf;
            if (file != null) {
                cf = Path.of(file);
            } else {
                cf = ctx.resolve("Containerfile");
                if (!Files.exists(cf) && Files.exists(ctx.resolve("Dockerfile"))) cf = ctx.resolve("Dockerfile");
            }
            if (!Files.isRegularFile(cf)) throw new BuildException("Containerfile " + cf + " not found");
            Path out = output != null ? Path.of(output) : Path.of(defaultOutputName(ref, fmt));
            return new BuildRequest(ref, cf, ctx, buildArgs, fmt, out, epoch(), quiet);
        }

        private static String defaultOutputName(ImageReference ref, OutputFormat fmt) {
            String given = ref.given();
            String base = given.substring(given.lastIndexOf('/') + 1).replace(':', '-');
            return fmt == OutputFormat.OCI_DIR ? base : base + ".tar";
        }

        private static long epoch() throws BuildException {
            String s = System.getenv("SOURCE_DATE_EPOCH");
            if (s == null || s.isBlank()) return 0;
            try {
                long v = Long.parseLong(s.strip());
                if (v < 0) throw new NumberFormatException();
                return v;
            } catch (NumberFormatException e) {
                throw new BuildException("SOURCE_DATE_EPOCH='" + s + "' is not a number of seconds");
            }
        }
    }
}
