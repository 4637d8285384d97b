/**
 * Running under systemd: the sd_notify protocol ({@code Type=notify} units) without libsystemd.
 *
 * <h2>Public surface</h2>
 *
 * {@link io.capstan.controller.systemd.SystemdNotifier} (what {@code capstan serve} tells systemd
 * and when), {@link io.capstan.controller.systemd.HealthProbe} (what earns a watchdog ping) and
 * {@link io.capstan.controller.systemd.WebHealthProbe} (the daemon's probe). Everything else is
 * package-private.
 *
 * <h2>Protocol</h2>
 *
 * systemd passes {@code NOTIFY_SOCKET} (an {@code AF_UNIX} datagram socket: a path, or an abstract
 * name written with a leading {@code @}), and with {@code WatchdogSec=} also {@code WATCHDOG_USEC}
 * and {@code WATCHDOG_PID}. Each notification is one datagram of newline-separated {@code
 * KEY=VALUE} lines. Without {@code NOTIFY_SOCKET} nothing is sent and no thread starts.
 *
 * <h2>Threads</h2>
 *
 * One single-thread scheduled executor per notifier owns the socket, the last status sent, the
 * periodic tasks and the watchdog bookkeeping; the public methods only queue tasks onto it.
 */
package io.capstan.controller.systemd;
