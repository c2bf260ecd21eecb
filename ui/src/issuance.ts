// The screens that issue a card without recording: a reissue request at the counter (its
// temporary letter) and personalisation at the Dinas (the print order from the data center
// written to a blank card). Like the rest of the screen, they only show what the core returns.

import { t } from "./i18n.js";
import { el, button, row, main, table } from "./dom.js";
import { biodataList, checklistForm, tickedDocuments } from "./parts.js";
import type { Ctx } from "./office.js";
import { STEP_LABELS } from "./bindings.js";
import type { PersonalisedView, PrintOrderView, PrintQueueLine, ReissueCase, ReissueLine, ReissuedView } from "./bindings.js";

// ----- reissue ---------------------------------------------------------------------------------

export async function renderReissue(ctx: Ctx): Promise<void> {
  const { lang } = ctx;
  const cases: ReissueCase[] = await ctx.call("reissue_checklist").catch((err) => {
    ctx.showError(err);
    return [];
  });
  if (cases.length === 0) return;
  const which = el("select", { id: "reissue-case" },
    ...cases.map((c) => el("option", { value: c.case }, c.label))) as HTMLSelectElement;
  const nik = el("input", { id: "reissue-nik", inputmode: "numeric", maxlength: "16", autocomplete: "off", required: "" }) as HTMLInputElement;
  const address = el("input", { id: "reissue-address", autocomplete: "off", size: "48" }) as HTMLInputElement;
  const addressLabel = el("label", {}, t(lang, "reissue.address"), address);
  const docs = el("div", {});
  const chosen = () => cases.find((c) => c.case === which.value) ?? cases[0];
  const drawCase = () => {
    const c = chosen();
    docs.replaceChildren(checklistForm(lang, "reissue-docs", c.checklist));
    addressLabel.hidden = !c.needs_address;
  };
  which.addEventListener("change", drawCase);
  drawCase();
  const form = el("form", { class: "card", id: "reissue-form" },
    el("p", { class: "hint" }, t(lang, "reissue.hint")),
    el("label", {}, t(lang, "reissue.case"), which),
    el("label", {}, t(lang, "bio.nik"), nik),
    el("h3", {}, STEP_LABELS.documents[lang]), docs,
    addressLabel,
    el("button", { type: "submit", id: "reissue-submit", class: "primary" }, t(lang, "reissue.submit")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const done = await ctx.working(t(lang, "wizard.working"), () => ctx.call("reissue", {
      form: {
        case: which.value,
        nik: nik.value,
        ...tickedDocuments(docs, chosen().checklist),
        new_address: chosen().needs_address ? address.value : null,
      },
    }));
    if (done) drawReissued(ctx, done);
  });
  const sent = el("section", { class: "card", id: "reissue-sent" }, el("h3", {}, t(lang, "reissue.sent")));
  main().replaceChildren(el("h2", {}, t(lang, "reissue.title")), form, sent);
  which.focus();
  // Each request taken here, and what the data center answered (sent by the sync pass).
  const lines: ReissueLine[] | null = await ctx.call("reissue_requests").catch((err) => {
    ctx.showError(err);
    return null;
  });
  if (!lines) return;
  if (lines.length === 0) {
    sent.append(el("p", { id: "reissue-sent-empty" }, t(lang, "reissue.sentEmpty")));
    return;
  }
  sent.append(table("reissue-sent-list",
    [t(lang, "reissue.request"), t(lang, "reissue.case"), "NIK", t(lang, "reissue.takenOn"), t(lang, "reissue.state")],
    lines.map((l) => [
      el("span", { class: "mono" }, l.request_id.slice(0, 8)),
      l.case_label,
      el("span", { class: "mono" }, l.masked_nik),
      l.taken_on,
      l.code ? el("span", {}, l.state, " ", el("small", { class: "code" }, l.code)) : l.state,
    ])));
}

function drawReissued(ctx: Ctx, done: ReissuedView): void {
  const { lang } = ctx;
  const next = button("reissue-next", t(lang, "reissue.next"), () => ctx.go(), "primary");
  main().replaceChildren(el("h2", {}, t(lang, "reissue.title")),
    el("article", { class: "letter", id: "reissued" },
      el("h3", {}, t(lang, "reissue.letter")),
      el("p", {}, t(lang, "reissue.letterBody", { kb: Math.round(done.letter_bytes / 1024) })),
      el("dl", {},
        row(t(lang, "reissue.case"), done.case_label),
        row("NIK", done.masked_nik),
        row(t(lang, "reissue.request"), done.request_id))),
    button("print", t(lang, "sealed.print"), () => window.print()), " ", next);
  next.focus();
}

// ----- personalisation -------------------------------------------------------------------------

export async function renderPersonalise(ctx: Ctx): Promise<void> {
  const { lang } = ctx;
  const packet = el("input", { id: "order-packet", autocomplete: "off", size: "40", required: "" }) as HTMLInputElement;
  const order = el("div", { id: "order" });
  const fetchOrder = async (): Promise<void> => {
    order.replaceChildren();
    const view = await ctx.working(t(lang, "personalise.fetching"), () => ctx.call("print_order", { packetId: packet.value }));
    if (view) drawOrder(ctx, order, view);
  };
  const form = el("form", { class: "card", id: "order-form" },
    el("p", { class: "hint" }, t(lang, "personalise.hint")),
    el("label", {}, t(lang, "personalise.packet"), packet),
    el("button", { type: "submit", id: "order-fetch", class: "primary" }, t(lang, "personalise.fetch")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    await fetchOrder();
  });
  const queue = el("section", { class: "card", id: "print-queue" }, el("h3", {}, t(lang, "personalise.queue")));
  main().replaceChildren(el("h2", {}, t(lang, "personalise.title")), queue, form, order, returnForm(ctx));
  packet.focus();
  // The queue from the data center: a record is picked, not typed.
  const lines: PrintQueueLine[] | null = await ctx.call("print_queue").catch((err) => {
    queue.append(el("p", { class: "hint", id: "print-queue-error" }, `${t(lang, "personalise.queueUnavailable")} (${err?.code ?? "?"})`));
    return null;
  });
  if (!lines) return;
  if (lines.length === 0) {
    queue.append(el("p", { id: "print-queue-empty" }, t(lang, "personalise.queueEmpty")));
    return;
  }
  queue.append(table("print-queue-list",
    [t(lang, "personalise.packet"), "NIK", t(lang, "personalise.recordedAt"), t(lang, "personalise.readyOn"), ""],
    lines.map((l, i) => [
      el("span", { class: "mono" }, l.packet_id.slice(0, 8)),
      el("span", { class: "mono" }, l.masked_nik),
      l.recorded_at,
      l.returned ? `${l.ready_on} · ${t(lang, "personalise.returned", { reason: l.returned })}` : l.ready_on,
      button(`print-queue-pick-${i}`, t(lang, "personalise.pick"), () => {
        packet.value = l.packet_id;
        void fetchOrder();
      }),
    ])));
}

/** A card personalised here that came back (its handover failed, it was damaged): recorded
 * with why, its record goes back on the queue. */
function returnForm(ctx: Ctx): HTMLElement {
  const { lang } = ctx;
  const serial = el("input", { id: "return-serial", autocomplete: "off", size: "24", required: "" }) as HTMLInputElement;
  const reason = el("input", { id: "return-reason", autocomplete: "off", size: "48", required: "" }) as HTMLInputElement;
  const result = el("p", { id: "return-result", role: "status" });
  const form = el("form", { class: "card", id: "return-form" },
    el("h3", {}, t(lang, "personalise.returnTitle")),
    el("p", { class: "hint" }, t(lang, "personalise.returnHint")),
    el("label", {}, t(lang, "handover.serial"), serial),
    el("label", {}, t(lang, "personalise.returnReason"), reason),
    el("button", { type: "submit", id: "return-submit" }, t(lang, "personalise.returnSubmit")),
    result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const packet = await ctx.working(t(lang, "wizard.working"), () => ctx.call("card_returned", { cardSerial: serial.value, reason: reason.value }));
    if (packet) result.textContent = t(lang, "personalise.returnDone", { packet: packet.slice(0, 8) });
  });
  return form;
}

function drawOrder(ctx: Ctx, into: HTMLElement, view: PrintOrderView): void {
  const { lang } = ctx;
  const fingers = [view.right_index, view.left_index].filter(Boolean).length;
  const write = button("personalise-write", t(lang, "personalise.write"), async () => {
    const done = await ctx.working(t(lang, "personalise.writing"), () => ctx.call("personalise"));
    if (done) drawPersonalised(ctx, done);
  }, "primary");
  into.replaceChildren(el("section", { class: "card", id: "order-check" },
    el("h3", {}, t(lang, "personalise.check")),
    // Everything the card face and the chip will carry.
    biodataList(lang, "order-biodata", view.biodata, true,
      row(t(lang, "sealed.packet"), view.packet_id),
      row(t(lang, "personalise.fingers"), t(lang, "personalise.fingerCount", { n: fingers }))),
    el("p", { class: "hint" }, t(lang, "personalise.cardHint")),
    write));
  write.focus();
}

function drawPersonalised(ctx: Ctx, done: PersonalisedView): void {
  const { lang } = ctx;
  const next = button("personalise-next", t(lang, "personalise.next"), () => ctx.go(), "primary");
  main().replaceChildren(el("h2", {}, t(lang, "personalise.title")),
    el("article", { class: "letter", id: "personalised" },
      el("h3", {}, t(lang, "personalise.done")),
      el("dl", {},
        row(t(lang, "handover.serial"), done.card_serial),
        row("NIK", done.masked_nik),
        row(t(lang, "personalise.face"), t(lang, "personalise.faceBody", { kb: Math.round(done.pdf_bytes / 1024) }))),
      el("img", { id: "card-face", class: "card-face", src: done.face_png, alt: t(lang, "personalise.face") })),
    button("print", t(lang, "sealed.print"), () => window.print()), " ", next);
  next.focus();
}
