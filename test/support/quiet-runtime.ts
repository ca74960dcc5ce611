import { installTemporalRuntime } from '../../runtime/temporal';

try {
  installTemporalRuntime();
} catch {
  // Already installed in this worker process by an earlier test file.
}
