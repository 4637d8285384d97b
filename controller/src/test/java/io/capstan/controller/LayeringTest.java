package io.capstan.controller;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Which part of Capstan may use which, checked on the compiled main classes of every module (this
 * module's test classpath holds them all). Each rule also fails when no class matches its subject,
 * so moving a package cannot make it pass by checking nothing. The arrows the rules keep are drawn
 * in the README (Layout).
 */
@AnalyzeClasses(packages = "io.capstan", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {

    @ArchTest
    static final ArchRule webKnowsNothingAbove =
            noClasses()
                    .that()
                    .resideInAPackage("io.capstan.web..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAnyPackage(
                            "io.capstan.raft..",
                            "io.capstan.transport..",
                            "io.capstan.etcd..",
                            "io.capstan.artifacts..",
                            "io.capstan.controller..",
                            "org.apache.ratis..")
                    .because(
                            "the web layer serves routes and knows nothing of Raft or of what is served over it");

    @ArchTest
    static final ArchRule transportDoesNotInterpretState =
            noClasses()
                    .that()
                    .resideInAPackage("io.capstan.transport..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAnyPackage(
                            "io.capstan.raft..",
                            "io.capstan.etcd..",
                            "io.capstan.artifacts..",
                            "io.capstan.controller..")
                    .because(
                            "the transport carries Ratis's messages between members without reading the state they change");

    @ArchTest
    static final ArchRule raftKnowsNoApiOrDaemon =
            noClasses()
                    .that()
                    .resideInAPackage("io.capstan.raft..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAnyPackage(
                            "io.capstan.etcd..",
                            "io.capstan.artifacts..",
                            "io.capstan.controller..",
                            "io.capstan.transport..",
                            "io.capstan.web..",
                            "io.grpc..",
                            "picocli..")
                    .because(
                            "the replicated state machine serves every API and is chosen a transport by the daemon");

    @ArchTest
    static final ArchRule etcdApiKnowsNoAdminOrCli =
            noClasses()
                    .that()
                    .resideInAPackage("io.capstan.etcd..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAnyPackage(
                            "io.capstan.controller..",
                            "io.capstan.artifacts..",
                            "io.capstan.transport..",
                            "picocli..")
                    .because(
                            "the etcd API is built and configured by the daemon, and knows nothing of its admin API or CLI");

    @ArchTest
    static final ArchRule etcdApiUsesTheNodeContract =
            noClasses()
                    .that()
                    .resideInAPackage("io.capstan.etcd..")
                    .should()
                    .dependOnClassesThat()
                    .haveFullyQualifiedName("io.capstan.raft.RaftNode")
                    .because(
                            "the etcd API needs only KeyspaceNode and MemberAdmin, so it also runs on LocalKeyspaceNode");
}
