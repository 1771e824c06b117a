package io.urunc.vmm.qemu;

/** QEMU option-string quoting: inside "key=value,key=value" a literal comma is written as two commas. */
final class QemuOpts {
    private QemuOpts() {}

    static String escape(String value) { return value.replace(",", ",,"); }
}
