/**
 * The lifecycle graph: named {@link io.capstan.controller.lifecycle.Component}s with dependencies,
 * started in dependency order and stopped in reverse by a {@link
 * io.capstan.controller.lifecycle.Lifecycle}.
 *
 * <p>Only {@code Component}, {@code ComponentState}, {@code Lifecycle} and {@code
 * LifecycleException} are public; the graph check, the per-component bookkeeping and the serial
 * executor that owns it stay inside this package.
 */
package io.capstan.controller.lifecycle;
