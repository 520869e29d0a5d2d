// calproxy portal: enhancement only; every page works without this file.
// 1. A form with data-confirm="dialog-id" asks in that <dialog> before it is sent
//    (without JavaScript the server shows a confirmation page instead). The form's
//    data-confirm-question and data-confirm-label, where given, fill the dialog's
//    [data-confirm-question] and [data-confirm-label]; a confirmed form is sent with
//    confirmed=yes, so the server acts without asking again.
// 2. A button with data-copy="input-id" copies that field's text.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const dialogId = form.dataset ? form.dataset.confirm : undefined;
  if (!dialogId || form.dataset.confirmed === "yes") return;
  const dialog = document.getElementById(dialogId);
  if (!dialog || typeof dialog.showModal !== "function") return;
  event.preventDefault();
  for (const key of ["confirmQuestion", "confirmLabel"]) {
    const slot = dialog.querySelector(key === "confirmQuestion" ? "[data-confirm-question]" : "[data-confirm-label]");
    if (slot && form.dataset[key]) slot.textContent = form.dataset[key];
  }
  dialog.returnValue = "";
  dialog.showModal();
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "confirm") {
      form.dataset.confirmed = "yes";
      let marker = form.querySelector('input[name="confirmed"]');
      if (!marker) {
        marker = document.createElement("input");
        marker.type = "hidden";
        marker.name = "confirmed";
        form.appendChild(marker);
      }
      marker.value = "yes";
      form.requestSubmit(event.submitter || undefined);
    }
  }, { once: true });
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.select();
  const done = () => { button.textContent = "Copied"; };
  if (navigator.clipboard) {
    navigator.clipboard.writeText(field.value).then(done, () => document.execCommand("copy") && done());
  } else if (document.execCommand("copy")) {
    done();
  }
});
