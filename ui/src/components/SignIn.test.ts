// The sign-in screen: labelled fields, errors inline, the demo and its people.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, expect, test, vi } from "vitest";
import { app } from "../lib/stores.svelte";
import { answer, callsTo } from "../test/tauri";
import SignIn from "./SignIn.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

afterEach(() => {
  cleanup();
  app.signedIn(null);
});

const people = [
  { name: "Ada Agent", email: "ada@demo", role: "agent" },
  { name: "Lena Lead", email: "lena@demo", role: "lead" },
];

test("fields are labelled with autocomplete; a refused sign-in shows the reason", async () => {
  answer({
    demo_logins: () => people,
    sign_in: () => {
      throw { code: "invalid_credentials", message: "wrong email or password" };
    },
  });
  render(SignIn, {});
  const hub = screen.getByLabelText("Server URL") as HTMLInputElement;
  const email = screen.getByLabelText("Email") as HTMLInputElement;
  const password = screen.getByLabelText("Password") as HTMLInputElement;
  expect([hub.id, email.id, password.id]).toEqual(["hub", "email", "password"]);
  expect(email.autocomplete).toBe("username");
  expect(password.autocomplete).toBe("current-password");
  expect(password.type).toBe("password");
  await fireEvent.input(hub, { target: { value: " https://hub.example.com " } });
  await fireEvent.input(email, { target: { value: "ada@example.com" } });
  await fireEvent.input(password, { target: { value: "secret" } });
  await fireEvent.click(screen.getByTestId("signin-submit"));
  expect((await screen.findByTestId("signin-error")).textContent).toBe("wrong email or password");
  expect(callsTo("sign_in")).toEqual([
    { request: { hub: "https://hub.example.com", email: "ada@example.com", password: "secret" } },
  ]);
  expect(app.session).toBeNull();
});

test("the demo signs in, as the first agent or a chosen person", async () => {
  let release: (v: unknown) => void = () => {};
  answer({
    demo_logins: () => people,
    try_demo: () => new Promise((r) => (release = r)),
  });
  render(SignIn, {});
  const persons = await screen.findAllByTestId("demo-login");
  expect(persons.map((p) => [p.dataset.email, p.textContent?.replace(/\s+/g, " ").trim()])).toEqual([
    ["ada@demo", "Ada Agent Agent"],
    ["lena@demo", "Lena Lead Team lead"],
  ]);
  await fireEvent.click(screen.getByTestId("try-demo"));
  expect(screen.getByRole("status").textContent).toMatch(/Starting the demo/);
  expect(callsTo("try_demo")).toEqual([{ email: null }]);
  release({ hub: "http://127.0.0.1:1", email: "ada@demo", demo: true });
  await waitFor(() => expect(app.session?.email).toBe("ada@demo"));

  app.signedIn(null);
  await fireEvent.click(persons[1]!);
  expect(callsTo("try_demo").at(-1)).toEqual({ email: "lena@demo" });
});

test("a build without the demo has no demo people and offers no demo", async () => {
  answer({ demo_logins: () => [] });
  render(SignIn, {});
  await waitFor(() => expect(callsTo("demo_logins")).toHaveLength(1));
  await screen.findByTestId("signin-submit");
  expect(screen.queryByTestId("try-demo")).toBeNull();
  expect(screen.queryAllByTestId("demo-login")).toHaveLength(0);
});
