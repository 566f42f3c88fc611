"""Smooths a noisy loss curve with an exponential moving average: a sample source file for ingest."""


def moving_average(values, beta=0.9):
    """Returns the bias-corrected exponential moving average of values."""
    smoothed, average = [], 0.0
    for step, value in enumerate(values, start=1):
        average = beta * average + (1 - beta) * value
        smoothed.append(average / (1 - beta**step))
    return smoothed


if __name__ == "__main__":
    losses = [5.5, 5.1, 4.8, 4.9, 4.3, 4.1, 4.2, 3.9]
    for step, loss in enumerate(moving_average(losses), start=1):
        print(f"{step}\t{loss:.3f}")
