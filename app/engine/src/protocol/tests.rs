use super::*;

mod shapes {
    use super::*;

    #[test]
    fn client_frames_decode_with_spec_names() {
        let msg =
            decode(r#"{"type":"call","req":1,"userIDList":["bob"],"callType":2,"timeout":30}"#);
        assert_eq!(
            msg,
            Ok(ClientMsg::Call(CallMsg::Call {
                req: 1,
                user_ids: vec!["bob".into()],
                call_type: CallType::Video,
                timeout: 30,
                group_id: None
            }))
        );
        let bad = decode(r#"{"type":"call","req":1,"userIDList":["bob"],"callType":3}"#);
        assert!(matches!(
            bad,
            Err(Undecodable { req: Some(1), refusal: Refusal::BadField(ref why) })
                if why.contains("callType must be 1 (audio) or 2 (video)")
        ));
        assert_eq!(
            decode(r#"{"type":"login","userID":"a","userSig":"s"}"#),
            Ok(ClientMsg::Login(Login {
                user_id: "a".into(),
                user_sig: "s".into()
            }))
        );
        assert_eq!(
            decode(r#"{"type":"listGroups","req":4}"#),
            Ok(ClientMsg::Group(GroupMsg::ListGroups { req: 4 }))
        );
    }

    #[test]
    fn bad_frames_are_told_apart_without_reading_error_text() {
        let refusal = |text: &str| decode(text).map_err(|u| (u.req, u.refusal.code()));
        assert_eq!(refusal("{not json"), Err((None, ErrorCode::Malformed)));
        assert_eq!(refusal("[1, 2]"), Err((None, ErrorCode::Malformed)));
        assert_eq!(
            refusal(r#"{"req": 3}"#),
            Err((Some(3), ErrorCode::Malformed))
        );
        assert_eq!(
            refusal(r#"{"type": "teleport", "req": 7}"#),
            Err((Some(7), ErrorCode::UnknownType))
        );
        assert_eq!(
            refusal(r#"{"type": 5, "req": 7}"#),
            Err((Some(7), ErrorCode::UnknownType))
        );
        assert_eq!(
            refusal(r#"{"type": "accept", "req": 8}"#),
            Err((Some(8), ErrorCode::InvalidArgument))
        );
    }

    #[test]
    fn every_type_is_listed_once_and_sent_as_listed() {
        let call = |call_type| CallMsg::Call {
            req: 1,
            user_ids: vec!["bob".into()],
            call_type,
            timeout: 0,
            group_id: None,
        };
        let invite_id = || "i".to_owned();
        let calls = [
            call(CallType::Audio),
            CallMsg::Accept {
                req: 2,
                invite_id: invite_id(),
            },
            CallMsg::Reject {
                req: 3,
                invite_id: invite_id(),
                is_busy: true,
            },
            CallMsg::Hangup { req: 4 },
            CallMsg::Signal {
                to: "bob".into(),
                data: SignalData::Restart,
            },
            CallMsg::Media {
                audio: true,
                video: false,
            },
            CallMsg::SwitchType {
                req: 5,
                call_type: CallType::Video,
            },
        ];
        let groups = [
            GroupMsg::CreateGroup {
                req: 6,
                name: "n".into(),
                user_ids: vec![],
            },
            GroupMsg::ListGroups { req: 7 },
        ];
        // One sample of each variant: each decodes back to itself, and their types are exactly
        // the lists, so a variant missing from `TYPES` fails here.
        let sent_types = |msgs: Vec<ClientMsg>| -> Vec<String> {
            msgs.into_iter()
                .map(|msg| {
                    let v = serde_json::to_value(&msg).unwrap();
                    assert_eq!(decode(&v.to_string()).as_ref(), Ok(&msg), "{v}");
                    v["type"].as_str().unwrap().to_owned()
                })
                .collect()
        };
        assert_eq!(
            sent_types(calls.into_iter().map(ClientMsg::Call).collect()),
            CallMsg::TYPES
        );
        assert_eq!(
            sent_types(groups.into_iter().map(ClientMsg::Group).collect()),
            GroupMsg::TYPES
        );
        let mut all: Vec<&str> = CallMsg::TYPES
            .iter()
            .chain(GroupMsg::TYPES)
            .copied()
            .collect();
        all.push("login");
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a type is listed twice");
    }

    #[test]
    fn signal_data_has_the_documented_shapes() {
        let text = r#"{"type":"signal","userID":"bob","data":{"kind":"offer","sdp":"v=0\r\n"}}"#;
        let Ok(ClientMsg::Call(CallMsg::Signal { to, data })) = decode(text) else {
            panic!("not a signal");
        };
        assert_eq!(to, "bob");
        let out = serde_json::to_string(&ServerMsg::Signal {
            from: "alice".into(),
            data,
        })
        .unwrap();
        assert_eq!(
            out,
            r#"{"type":"signal","userID":"alice","data":{"kind":"offer","sdp":"v=0\r\n"}}"#
        );
        let back: ServerMsg = serde_json::from_str(&out).unwrap();
        assert!(matches!(back, ServerMsg::Signal { .. }));
        let candidate: SignalData = serde_json::from_str(
            r#"{"kind":"candidate","candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}"#,
        )
        .unwrap();
        assert!(matches!(
            candidate,
            SignalData::Candidate {
                sdp_m_line_index: Some(0),
                ..
            }
        ));
        assert_eq!(
            serde_json::to_string(&SignalData::Restart).unwrap(),
            r#"{"kind":"restart"}"#
        );
        assert!(serde_json::from_str::<SignalData>(r#"{"kind":"offer"}"#).is_err());
        assert!(serde_json::from_str::<SignalData>(r#"{"kind":"bogus"}"#).is_err());
    }

    #[test]
    fn server_frames_use_spec_names() {
        let invited = ServerMsg::Invited {
            invite_id: "i1".into(),
            sponsor: "alice".into(),
            user_ids: vec!["bob".into()],
            is_from_group: false,
            group_id: None,
            invite_data: InviteData {
                version: INVITE_DATA_VERSION,
                call_type: CallType::Audio,
                room_id: 7,
            },
            timeout: 30,
        };
        let json: serde_json::Value = serde_json::to_value(&invited).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "invited", "inviteID": "i1", "sponsor": "alice", "userIDList": ["bob"],
                "isFromGroup": false, "inviteData": {"version": 4, "callType": 1, "roomID": 7},
                "timeout": 30
            })
        );
        let result = ServerMsg::Result {
            req: 3,
            outcome: Outcome {
                invite_id: Some("i1".into()),
                room_id: Some(7),
                ..Outcome::default()
            },
        };
        assert_eq!(
            serde_json::to_value(&result).unwrap(),
            serde_json::json!({"type": "result", "req": 3, "inviteID": "i1", "roomID": 7})
        );
        assert_eq!(
            serde_json::from_value::<ServerMsg>(serde_json::to_value(&result).unwrap()).unwrap(),
            result
        );
    }
}

/// Frames come from strangers: decoding anything must fail cleanly, never panic.
mod robustness {
    use super::*;

    /// A small deterministic generator, so failures reproduce.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    const SAMPLES: &[&str] = &[
        r#"{"type":"login","userID":"alice","userSig":"abc"}"#,
        r#"{"type":"call","req":1,"userIDList":["bob","carol"],"callType":2,"timeout":30,"groupID":"g1"}"#,
        r#"{"type":"accept","req":2,"inviteID":"i"}"#,
        r#"{"type":"reject","req":3,"inviteID":"i","isBusy":true}"#,
        r#"{"type":"signal","userID":"bob","data":{"kind":"candidate","candidate":"c","sdpMid":"0","sdpMLineIndex":0}}"#,
        r#"{"type":"media","audio":true,"video":false}"#,
        r#"{"type":"createGroup","req":4,"name":"n","userIDList":["a"]}"#,
    ];

    #[test]
    fn mutated_frames_never_panic() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let alphabet = br#"{}[]":,0123456789-.etrufalsn\ abcxyzTYPEtype"#;
        for _ in 0..20_000 {
            let base = SAMPLES[(rng.next() % SAMPLES.len() as u64) as usize].as_bytes();
            let mut frame = base.to_vec();
            for _ in 0..=(rng.next() % 4) {
                let at = (rng.next() as usize) % (frame.len() + 1);
                match rng.next() % 3 {
                    0 if at < frame.len() => {
                        frame.remove(at);
                    }
                    1 => frame.insert(at, alphabet[(rng.next() as usize) % alphabet.len()]),
                    _ if at < frame.len() => frame[at] = (rng.next() & 0xff) as u8,
                    _ => {}
                }
            }
            if let Ok(text) = std::str::from_utf8(&frame) {
                let _ = decode(text);
            }
            let _ = serde_json::from_slice::<ServerMsg>(&frame);
        }
    }
}
