package io.urunc.shim;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.appender.ConsoleAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilderFactory;
import org.apache.logging.log4j.core.config.builder.impl.BuiltConfiguration;

import java.nio.file.Path;

/**
 * log4j2 for the daemon only, configured in code (no file lookup, no shutdown hook). The short-lived
 * start and delete commands never touch it: log4j2 costs most of a second to initialise.
 */
final class Logging {
    private Logging() {}

    static void toFile(Path file, String level) {
        System.setProperty("log4j2.shutdownHookEnabled", "false");
        System.setProperty("log4j2.statusLoggerLevel", "OFF");
        ConfigurationBuilder<BuiltConfiguration> b = ConfigurationBuilderFactory.newConfigurationBuilder();
        b.setStatusLevel(Level.OFF);
        b.setShutdownHook("disable");
        b.add(b.newAppender("file", "File")
                .addAttribute("fileName", file.toString())
                .addAttribute("append", true)
                .add(b.newLayout("PatternLayout").addAttribute("pattern", "%d{ISO8601} %-5level [%t] %c{1} %msg%n")));
        b.add(b.newRootLogger(Level.toLevel(level, Level.INFO)).add(b.newAppenderRef("file")));
        Configurator.initialize(b.build());
    }

    static void toStderr(String level) {
        System.setProperty("log4j2.statusLoggerLevel", "OFF");
        ConfigurationBuilder<BuiltConfiguration> b = ConfigurationBuilderFactory.newConfigurationBuilder();
        b.setStatusLevel(Level.OFF);
        b.setShutdownHook("disable");
        b.add(b.newAppender("err", "Console").addAttribute("target", ConsoleAppender.Target.SYSTEM_ERR)
                .add(b.newLayout("PatternLayout").addAttribute("pattern", "%d{ISO8601} %-5level %c{1} %msg%n")));
        b.add(b.newRootLogger(Level.toLevel(level, Level.INFO)).add(b.newAppenderRef("err")));
        Configurator.initialize(b.build());
    }
}
