package io.capstan.controller.bench;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * The machine a benchmark ran on, and how busy it was: other work skews every figure.
 *
 * @param cores processors the JVM sees
 * @param loadAverage the system load average of the last minute; negative when unknown
 * @param jvm the JVM's name, version and vendor
 * @param maxHeapMiB the JVM's maximum heap
 * @param os the operating system's name, version and architecture
 */
public record Machine(int cores, double loadAverage, String jvm, long maxHeapMiB, String os) {

    /** This machine, now. */
    public static Machine now() {
        String jvm =
                System.getProperty("java.vm.name")
                        + " "
                        + Runtime.version()
                        + " ("
                        + System.getProperty("java.vm.vendor")
                        + ")";
        String os =
                System.getProperty("os.name")
                        + " "
                        + System.getProperty("os.version")
                        + " "
                        + System.getProperty("os.arch");
        return new Machine(
                Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                jvm,
                Runtime.getRuntime().maxMemory() >> 20,
                os);
    }

    /** One line for people, e.g. {@code machine: 2 cores, OpenJDK ... , load average 0.52}. */
    public String describe() {
        return String.format(
                Locale.ROOT,
                "machine: %d cores, %s, max heap %d MiB, %s, load average %s",
                cores,
                jvm,
                maxHeapMiB,
                os,
                loadAverage < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", loadAverage));
    }
}
