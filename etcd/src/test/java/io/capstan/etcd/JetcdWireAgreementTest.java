package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import io.capstan.etcd.api.AuthProto;
import io.capstan.etcd.api.ClusterProto;
import io.capstan.etcd.api.HeaderProto;
import io.capstan.etcd.api.KvProto;
import io.capstan.etcd.api.LeaseProto;
import io.capstan.etcd.api.MaintenanceProto;
import io.capstan.etcd.api.WatchProto;
import io.capstan.etcd.api.auth.AuthRecordsProto;
import io.capstan.etcd.api.election.ElectionProto;
import io.capstan.etcd.api.lock.LockProto;
import io.capstan.etcd.api.mvcc.MvccProto;
import io.etcd.jetcd.api.ElectionOuterClass;
import io.etcd.jetcd.api.JetcdProto;
import io.etcd.jetcd.api.Kv;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * jetcd compiled its own copy of etcd's protos; whatever it sends or expects must mean the same in
 * ours. For every service, method, message, field and enum value jetcd knows, ours must have the
 * same name with the same number, type, cardinality, oneof and streaming shape. Ours may know more
 * (jetcd's copy predates some etcd v3.5 additions such as Downgrade and LeaseLeases).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class JetcdWireAgreementTest {

    /**
     * RPCs jetcd declares that etcd v3.5 does not serve: progress requests travel inside the Watch
     * stream.
     */
    private static final Set<String> JETCD_ONLY_METHODS = Set.of("etcdserverpb.Watch.Progress");

    private final Map<String, Descriptor> ourMessages = new HashMap<>();
    private final Map<String, EnumDescriptor> ourEnums = new HashMap<>();
    private final Map<String, ServiceDescriptor> ourServices = new HashMap<>();
    private final List<String> problems = new ArrayList<>();

    JetcdWireAgreementTest() {
        for (FileDescriptor file :
                List.of(
                        HeaderProto.getDescriptor(),
                        KvProto.getDescriptor(),
                        WatchProto.getDescriptor(),
                        LeaseProto.getDescriptor(),
                        ClusterProto.getDescriptor(),
                        MaintenanceProto.getDescriptor(),
                        AuthProto.getDescriptor(),
                        MvccProto.getDescriptor(),
                        AuthRecordsProto.getDescriptor(),
                        LockProto.getDescriptor(),
                        ElectionProto.getDescriptor())) {
            file.getMessageTypes().forEach(this::indexOurs);
            file.getEnumTypes().forEach(e -> ourEnums.put(e.getFullName(), e));
            file.getServices().forEach(s -> ourServices.put(s.getFullName(), s));
        }
    }

    @Test
    void everythingJetcdKnowsHasTheSameWireMeaningInOurs() {
        List<FileDescriptor> jetcdFiles =
                List.of(
                        JetcdProto.getDescriptor(),
                        Kv.getDescriptor(),
                        io.etcd.jetcd.api.Auth.getDescriptor(),
                        ElectionOuterClass.getDescriptor(),
                        io.etcd.jetcd.api.lock.JetcdProto.getDescriptor());
        int messages = 0;
        int methods = 0;
        for (FileDescriptor file : jetcdFiles) {
            for (Descriptor message : file.getMessageTypes()) {
                messages += compareMessage(message);
            }
            file.getEnumTypes().forEach(this::compareEnum);
            for (ServiceDescriptor service : file.getServices()) {
                methods += compareService(service);
            }
        }

        assertEquals(List.of(), problems);
        // Guards against comparing nothing, e.g. if jetcd's descriptors came back empty.
        assertTrue(
                messages > 100 && methods > 40,
                messages + " messages, " + methods + " methods compared");
    }

    private void indexOurs(Descriptor message) {
        ourMessages.put(message.getFullName(), message);
        message.getNestedTypes().forEach(this::indexOurs);
        message.getEnumTypes().forEach(e -> ourEnums.put(e.getFullName(), e));
    }

    private int compareMessage(Descriptor theirs) {
        Descriptor ours = ourMessages.get(theirs.getFullName());
        if (ours == null) {
            problems.add("missing message " + theirs.getFullName());
            return 1;
        }
        for (FieldDescriptor theirField : theirs.getFields()) {
            FieldDescriptor ourField = ours.findFieldByName(theirField.getName());
            if (ourField == null) {
                problems.add("missing field " + theirField.getFullName());
            } else if (!wireShape(ourField).equals(wireShape(theirField))) {
                problems.add(
                        theirField.getFullName()
                                + ": ours "
                                + wireShape(ourField)
                                + ", jetcd "
                                + wireShape(theirField));
            }
        }
        theirs.getEnumTypes().forEach(this::compareEnum);
        int compared = 1;
        for (Descriptor nested : theirs.getNestedTypes()) {
            compared += compareMessage(nested);
        }
        return compared;
    }

    private static String wireShape(FieldDescriptor field) {
        String valueType =
                switch (field.getJavaType()) {
                    case MESSAGE -> field.getMessageType().getFullName();
                    case ENUM -> field.getEnumType().getFullName();
                    default -> "";
                };
        String oneof =
                field.getRealContainingOneof() == null
                        ? ""
                        : field.getRealContainingOneof().getName();
        return "#"
                + field.getNumber()
                + " "
                + field.getType()
                + " "
                + valueType
                + (field.isRepeated() ? " repeated" : "")
                + (field.isPacked() ? " packed" : "")
                + (oneof.isEmpty() ? "" : " oneof " + oneof);
    }

    private void compareEnum(EnumDescriptor theirs) {
        EnumDescriptor ours = ourEnums.get(theirs.getFullName());
        if (ours == null) {
            problems.add("missing enum " + theirs.getFullName());
            return;
        }
        for (EnumValueDescriptor value : theirs.getValues()) {
            EnumValueDescriptor ourValue = ours.findValueByName(value.getName());
            if (ourValue == null || ourValue.getNumber() != value.getNumber()) {
                problems.add(
                        theirs.getFullName()
                                + "."
                                + value.getName()
                                + ": ours "
                                + (ourValue == null ? "missing" : ourValue.getNumber())
                                + ", jetcd "
                                + value.getNumber());
            }
        }
    }

    private int compareService(ServiceDescriptor theirs) {
        ServiceDescriptor ours = ourServices.get(theirs.getFullName());
        if (ours == null) {
            problems.add("missing service " + theirs.getFullName());
            return 0;
        }
        int compared = 0;
        for (MethodDescriptor method : theirs.getMethods()) {
            if (JETCD_ONLY_METHODS.contains(method.getFullName())) {
                continue;
            }
            MethodDescriptor ourMethod = ours.findMethodByName(method.getName());
            if (ourMethod == null) {
                problems.add("missing method " + method.getFullName());
            } else if (!Objects.equals(callShape(ourMethod), callShape(method))) {
                problems.add(
                        method.getFullName()
                                + ": ours "
                                + callShape(ourMethod)
                                + ", jetcd "
                                + callShape(method));
            }
            compared++;
        }
        return compared;
    }

    private static String callShape(MethodDescriptor method) {
        return (method.isClientStreaming() ? "stream " : "")
                + method.getInputType().getFullName()
                + " -> "
                + (method.isServerStreaming() ? "stream " : "")
                + method.getOutputType().getFullName();
    }
}
