//! The engine's API, as `TRTCCalling` and the site's pages call it. Each call either hands a
//! request to the machine or works the browser's devices and views; the rules are the
//! machine's.

use super::{stats, Engine, Input, Profile};
use crate::protocol::{CallMsg, CallType, ClientMsg, GroupMsg, Login, Outcome, Refusal};

impl Engine {
    /// Opens the signaling connection to this site and logs in.
    pub async fn login(&self, user_id: String, user_sig: String) -> Result<(), Refusal> {
        let login = ClientMsg::Login(Login { user_id, user_sig });
        self.request(login).await.map(|_| ())
    }

    pub async fn logout(&self) -> Result<(), Refusal> {
        if self.0.borrow().machine.in_call() {
            let _ = self.hangup().await;
        }
        self.handle(Input::Logout);
        self.close_socket();
        Ok(())
    }

    pub async fn call(
        &self,
        user_ids: Vec<String>,
        call_type: CallType,
        timeout: u32,
        group_id: Option<String>,
    ) -> Result<Outcome, Refusal> {
        let fresh = {
            let inner = self.0.borrow();
            inner.machine.user().is_some() && !inner.machine.in_call()
        };
        if fresh {
            self.capture(call_type).await?;
        }
        let result = self
            .call_request(CallMsg::Call {
                req: 0,
                user_ids,
                call_type,
                timeout,
                group_id,
            })
            .await;
        self.release_unless_in_call(&result);
        result
    }

    /// The newest invitation ringing for us, for `accept()` and `reject()` without an ID.
    pub fn ringing_invite(&self) -> Option<String> {
        self.0.borrow().machine.ringing_invite().map(str::to_owned)
    }

    pub async fn accept(&self, invite_id: String) -> Result<Outcome, Refusal> {
        let ringing = self.0.borrow().machine.invitation(&invite_id).cloned();
        // Capture before answering, so the others see us with our media; an invitation that
        // is not ringing is refused by the machine.
        if let Some(invitation) = ringing {
            self.capture(invitation.call_type).await?;
        }
        let result = self
            .call_request(CallMsg::Accept { req: 0, invite_id })
            .await;
        self.release_unless_in_call(&result);
        result
    }

    fn release_unless_in_call(&self, result: &Result<Outcome, Refusal>) {
        if result.is_err() && !self.0.borrow().machine.in_call() {
            self.release_media();
        }
    }

    pub async fn reject(&self, invite_id: String, is_busy: bool) -> Result<(), Refusal> {
        let reject = CallMsg::Reject {
            req: 0,
            invite_id,
            is_busy,
        };
        self.call_request(reject).await.map(|_| ())
    }

    pub async fn hangup(&self) -> Result<(), Refusal> {
        self.call_request(CallMsg::Hangup { req: 0 })
            .await
            .map(|_| ())
    }

    pub async fn create_group(
        &self,
        name: String,
        user_ids: Vec<String>,
    ) -> Result<Outcome, Refusal> {
        let create = GroupMsg::CreateGroup {
            req: 0,
            name,
            user_ids,
        };
        self.request(ClientMsg::Group(create)).await
    }

    pub async fn list_groups(&self) -> Result<Outcome, Refusal> {
        let list = GroupMsg::ListGroups { req: 0 };
        self.request(ClientMsg::Group(list)).await
    }

    /// `switchToAudioCall` / `switchToVideoCall`. A switch to video opens the camera first, so
    /// that the other side is never told of a picture that cannot come.
    pub async fn switch_call_type(&self, to: CallType) -> Result<(), Refusal> {
        let allowed = self.0.borrow().machine.check_switch(to).is_ok();
        if allowed && to == CallType::Video {
            if let Err(f) = self.open_camera().await {
                let failed = Refusal::SwitchFailed {
                    to,
                    why: format!("the camera could not be opened: {f}").into(),
                };
                self.emit_error(failed.clone());
                return Err(failed);
            }
        }
        let switch = CallMsg::SwitchType {
            req: 0,
            call_type: to,
        };
        self.call_request(switch).await.map(|_| ())
    }

    pub fn set_mic_mute(&self, mute: bool) {
        self.0.borrow_mut().media.set_mic_muted(mute);
        self.report_media();
    }

    pub fn set_video_quality(&self, profile: Profile) {
        self.0.borrow_mut().media.profile = profile;
    }

    pub fn start_local_view(&self, dom_id: &str) -> Result<(), Refusal> {
        let inner = &mut *self.0.borrow_mut();
        inner.views.start_local(dom_id, &inner.media)
    }

    pub fn stop_local_view(&self, dom_id: &str) {
        self.0.borrow_mut().views.stop_local(dom_id);
    }

    pub fn start_remote_view(&self, user_id: &str, dom_id: &str) -> Result<(), Refusal> {
        let inner = &mut *self.0.borrow_mut();
        let stream = inner.peers.get(user_id).map(|p| Clone::clone(&p.remote));
        inner.views.start_remote(user_id, dom_id, stream.as_ref())
    }

    pub fn stop_remote_view(&self, user_id: &str, dom_id: &str) {
        self.0.borrow_mut().views.stop_remote(user_id, dom_id);
    }

    /// Receive statistics of the connection with `user_id` (packets, frames, round trip).
    pub async fn stats(&self, user_id: &str) -> Result<stats::Stats, Refusal> {
        let pc = self.0.borrow().peers.get(user_id).map(|p| p.pc.clone());
        let Some(pc) = pc else {
            return Err(Refusal::NotInRoom);
        };
        stats::stats(&pc).await
    }
}
