// Turns the serialport package's open errors into messages a maker can act on.
import { CliError } from "../cli-error.ts";

export function explainOpenError(path: string, error: Error): CliError {
  const text = error.message;
  if (/No such file|ENOENT|cannot find/i.test(text)) {
    return new CliError(`no such serial port: ${path}`,
      "Is the board plugged in? List ports with `xsmq doctor` (or `ls /dev/ttyUSB* /dev/ttyACM*`).\n" +
      "A board that never shows up may need the CP210x/CH340 USB-serial driver or a data (not charge-only) cable.");
  }
  if (/Permission denied|EACCES/i.test(text)) {
    return new CliError(`permission denied opening ${path}`,
      `Add yourself to the group that owns the port, then log out and in again:\n` +
      `  sudo usermod -aG dialout $USER      (the group is "uucp" on Arch, "dialout" on Debian/Ubuntu/Fedora)`);
  }
  if (/Inappropriate ioctl|ENOTTY|not a (tty|typewriter)/i.test(text)) {
    return new CliError(`${path} is not a serial port (the terminal settings a board's port takes do not apply to it)`,
      "A board's port is /dev/ttyUSB* or /dev/ttyACM* on Linux, /dev/cu.usbserial-* or /dev/cu.usbmodem* on macOS:\n" +
      "plug the board in and list them with `xsmq doctor`.");
  }
  if (/busy|EBUSY|lock/i.test(text)) {
    return new CliError(`serial port ${path} is in use`, "Close the other program using it (a serial monitor, xsbug, screen, the Arduino IDE).");
  }
  return new CliError(`cannot open ${path}: ${text}`);
}
