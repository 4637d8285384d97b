package io.capstan.controller.admin;

import io.capstan.raft.Member;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Members as the admin API writes them: {@code {"id": hex, "name": ..., "peer_url": ..., "api_url":
 * ..., "role": "voter"|"learner", "leader": bool, "started": bool}}. A member added but not started
 * has an empty name and no api URL yet. Stateless.
 */
final class MemberJson {

    private MemberJson() {}

    /**
     * @param leader the name of the leader as this member knows it
     */
    static Map<String, Object> view(Member member, Optional<String> leader) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", MemberIds.format(member.id()));
        view.put("name", member.name());
        view.put("peer_url", first(member.peerUrls()));
        view.put("api_url", first(member.clientUrls()));
        view.put("role", member.learner() ? "learner" : "voter");
        view.put("leader", member.started() && leader.map(member.name()::equals).orElse(false));
        view.put("started", member.started());
        return view;
    }

    static List<Map<String, Object>> views(List<Member> members, Optional<String> leader) {
        return members.stream().map(member -> view(member, leader)).toList();
    }

    private static String first(List<String> urls) {
        return urls.isEmpty() ? null : urls.get(0);
    }
}
