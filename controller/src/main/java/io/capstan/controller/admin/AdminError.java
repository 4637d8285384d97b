package io.capstan.controller.admin;

import java.util.Map;

/**
 * An admin API answer that is not a success, in the web layer's error shape {@code
 * {"error":{"code":..., "message":..., ...details}}}. {@code code} is stable, for programs; {@code
 * details} carry what a caller needs to recover (the leader's address, the known values).
 */
record AdminError(int status, String code, String message, Map<String, ?> details) {

    AdminError {
        details = Map.copyOf(details);
    }

    static AdminError of(int status, String code, String message) {
        return new AdminError(status, code, message, Map.of());
    }

    AdminException toException() {
        return new AdminException(this);
    }

    /** An admin error carried as a future's failure. */
    static final class AdminException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient AdminError error;

        AdminException(AdminError error) {
            super(error.message(), null, false, false);
            this.error = error;
        }

        AdminError error() {
            return error;
        }
    }
}
