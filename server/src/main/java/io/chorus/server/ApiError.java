package io.chorus.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request that ends in an HTTP error, answered in OpenAI's shape:
 * {@code {"error": {"message", "type", "param", "code"}}}. Thrown anywhere in a handler; the router
 * turns it into the response. Never carries a stack trace to the client.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final Integer retryAfterSeconds;

    public ApiError(int status, String type, String message, String param, String code, Integer retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiError badRequest(String message, String param) {
        return new ApiError(400, "invalid_request_error", message, param, null, null);
    }

    public static ApiError unauthorized() {
        return new ApiError(401, "invalid_request_error",
                "Incorrect or missing API key; send it as 'Authorization: Bearer <key>'", null, "invalid_api_key", null);
    }

    public static ApiError notFound(String message, String code) {
        return new ApiError(404, "invalid_request_error", message, null, code, null);
    }

    public static ApiError modelNotFound(String model) {
        return new ApiError(404, "invalid_request_error", "The model `" + model + "` does not exist.", "model", "model_not_found", null);
    }

    public static ApiError tooLarge(long limit) {
        return new ApiError(413, "invalid_request_error", "Request body is larger than the limit of " + limit + " bytes", null, "request_too_large", null);
    }

    public static ApiError queueFull(int retryAfterSeconds) {
        return new ApiError(429, "rate_limit_error", "The server is busy: the waiting queue is full; retry later", null,
                "rate_limit_exceeded", retryAfterSeconds);
    }

    public static ApiError unavailable(String message) {
        return new ApiError(503, "service_unavailable", message, null, "service_unavailable", 1);
    }

    public static ApiError internal(String message) {
        return new ApiError(500, "server_error", message, null, null, null);
    }

    public int status() { return status; }
    public Integer retryAfterSeconds() { return retryAfterSeconds; }

    /** The body: {@code {"error": {...}}}. */
    public ObjectNode toJson() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode e = root.putObject("error");
        e.put("message", getMessage());
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return root;
    }
}
