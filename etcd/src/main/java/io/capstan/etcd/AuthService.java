package io.capstan.etcd;

import io.capstan.etcd.api.AuthDisableRequest;
import io.capstan.etcd.api.AuthDisableResponse;
import io.capstan.etcd.api.AuthEnableRequest;
import io.capstan.etcd.api.AuthEnableResponse;
import io.capstan.etcd.api.AuthGrpc;
import io.capstan.etcd.api.AuthRoleAddRequest;
import io.capstan.etcd.api.AuthRoleAddResponse;
import io.capstan.etcd.api.AuthRoleDeleteRequest;
import io.capstan.etcd.api.AuthRoleDeleteResponse;
import io.capstan.etcd.api.AuthRoleGetRequest;
import io.capstan.etcd.api.AuthRoleGetResponse;
import io.capstan.etcd.api.AuthRoleGrantPermissionRequest;
import io.capstan.etcd.api.AuthRoleGrantPermissionResponse;
import io.capstan.etcd.api.AuthRoleListRequest;
import io.capstan.etcd.api.AuthRoleListResponse;
import io.capstan.etcd.api.AuthRoleRevokePermissionRequest;
import io.capstan.etcd.api.AuthRoleRevokePermissionResponse;
import io.capstan.etcd.api.AuthStatusRequest;
import io.capstan.etcd.api.AuthStatusResponse;
import io.capstan.etcd.api.AuthUserAddRequest;
import io.capstan.etcd.api.AuthUserAddResponse;
import io.capstan.etcd.api.AuthUserChangePasswordRequest;
import io.capstan.etcd.api.AuthUserChangePasswordResponse;
import io.capstan.etcd.api.AuthUserDeleteRequest;
import io.capstan.etcd.api.AuthUserDeleteResponse;
import io.capstan.etcd.api.AuthUserGetRequest;
import io.capstan.etcd.api.AuthUserGetResponse;
import io.capstan.etcd.api.AuthUserGrantRoleRequest;
import io.capstan.etcd.api.AuthUserGrantRoleResponse;
import io.capstan.etcd.api.AuthUserListRequest;
import io.capstan.etcd.api.AuthUserListResponse;
import io.capstan.etcd.api.AuthUserRevokeRoleRequest;
import io.capstan.etcd.api.AuthUserRevokeRoleResponse;
import io.capstan.etcd.api.AuthenticateRequest;
import io.capstan.etcd.api.AuthenticateResponse;
import io.grpc.stub.StreamObserver;

/**
 * etcd's Auth gRPC service, handed to {@link AuthOperations}. Immutable; gRPC calls it on the API
 * executor.
 */
final class AuthService extends AuthGrpc.AuthImplBase {

    private final AuthOperations auth;

    AuthService(AuthOperations auth) {
        this.auth = auth;
    }

    @Override
    public void authEnable(
            AuthEnableRequest request, StreamObserver<AuthEnableResponse> responses) {
        Replies.send(auth.enable(request), responses);
    }

    @Override
    public void authDisable(
            AuthDisableRequest request, StreamObserver<AuthDisableResponse> responses) {
        Replies.send(auth.disable(request), responses);
    }

    @Override
    public void authStatus(
            AuthStatusRequest request, StreamObserver<AuthStatusResponse> responses) {
        Replies.send(auth.status(request), responses);
    }

    @Override
    public void authenticate(
            AuthenticateRequest request, StreamObserver<AuthenticateResponse> responses) {
        Replies.send(auth.authenticate(request), responses);
    }

    @Override
    public void userAdd(AuthUserAddRequest request, StreamObserver<AuthUserAddResponse> responses) {
        Replies.send(auth.userAdd(request), responses);
    }

    @Override
    public void userGet(AuthUserGetRequest request, StreamObserver<AuthUserGetResponse> responses) {
        Replies.send(auth.userGet(request), responses);
    }

    @Override
    public void userList(
            AuthUserListRequest request, StreamObserver<AuthUserListResponse> responses) {
        Replies.send(auth.userList(request), responses);
    }

    @Override
    public void userDelete(
            AuthUserDeleteRequest request, StreamObserver<AuthUserDeleteResponse> responses) {
        Replies.send(auth.userDelete(request), responses);
    }

    @Override
    public void userChangePassword(
            AuthUserChangePasswordRequest request,
            StreamObserver<AuthUserChangePasswordResponse> responses) {
        Replies.send(auth.userChangePassword(request), responses);
    }

    @Override
    public void userGrantRole(
            AuthUserGrantRoleRequest request, StreamObserver<AuthUserGrantRoleResponse> responses) {
        Replies.send(auth.userGrantRole(request), responses);
    }

    @Override
    public void userRevokeRole(
            AuthUserRevokeRoleRequest request,
            StreamObserver<AuthUserRevokeRoleResponse> responses) {
        Replies.send(auth.userRevokeRole(request), responses);
    }

    @Override
    public void roleAdd(AuthRoleAddRequest request, StreamObserver<AuthRoleAddResponse> responses) {
        Replies.send(auth.roleAdd(request), responses);
    }

    @Override
    public void roleGet(AuthRoleGetRequest request, StreamObserver<AuthRoleGetResponse> responses) {
        Replies.send(auth.roleGet(request), responses);
    }

    @Override
    public void roleList(
            AuthRoleListRequest request, StreamObserver<AuthRoleListResponse> responses) {
        Replies.send(auth.roleList(request), responses);
    }

    @Override
    public void roleDelete(
            AuthRoleDeleteRequest request, StreamObserver<AuthRoleDeleteResponse> responses) {
        Replies.send(auth.roleDelete(request), responses);
    }

    @Override
    public void roleGrantPermission(
            AuthRoleGrantPermissionRequest request,
            StreamObserver<AuthRoleGrantPermissionResponse> responses) {
        Replies.send(auth.roleGrantPermission(request), responses);
    }

    @Override
    public void roleRevokePermission(
            AuthRoleRevokePermissionRequest request,
            StreamObserver<AuthRoleRevokePermissionResponse> responses) {
        Replies.send(auth.roleRevokePermission(request), responses);
    }
}
